"""An aiorpcx server for interop tests.

Usage: aiorpcx_server.py tcp|ws|tcp-v1 (tcp-v1: JSON-RPC 1.0 over newline TCP)
Prints "READY <port>" once listening. Methods: echo, add, greet (named), fail (error),
notes (notifications received so far), call_back (asks the client to "double" a value),
notify_back (sends the client a "pushed" notification).
"""
import asyncio
import sys

from aiorpcx import (JSONRPCConnection, JSONRPCv1, RPCError, RPCSession, handler_invocation,
                     serve_rs, serve_ws)


class InteropSession(RPCSession):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received_notes = []

    async def handle_request(self, request):
        handlers = {
            'echo': self.on_echo,
            'add': self.on_add,
            'greet': self.on_greet,
            'fail': self.on_fail,
            'note': self.on_note,
            'notes': self.on_notes,
            'call_back': self.on_call_back,
            'notify_back': self.on_notify_back,
        }
        invocation = handler_invocation(handlers.get(request.method), request)
        return await invocation()

    async def on_echo(self, value):
        return value

    async def on_add(self, a, b):
        return a + b

    async def on_greet(self, name):
        return 'hello ' + name

    async def on_fail(self, code, message):
        raise RPCError(code, message)

    async def on_note(self, value):
        self.received_notes.append(value)

    async def on_notes(self):
        return self.received_notes

    async def on_call_back(self, value):
        return await self.send_request('double', [value])

    async def on_notify_back(self, value):
        await self.send_notification('pushed', [value])
        return 'sent'


class InteropSessionV1(InteropSession):
    def default_connection(self):
        return JSONRPCConnection(JSONRPCv1)


async def main(kind):
    if kind == 'ws':
        server = await serve_ws(InteropSession, '127.0.0.1', 0)
    elif kind == 'tcp-v1':
        server = await serve_rs(InteropSessionV1, '127.0.0.1', 0)
    else:
        server = await serve_rs(InteropSession, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    print('READY', port, flush=True)
    await asyncio.Event().wait()


asyncio.run(main(sys.argv[1]))
