"""An aiorpcx client for interop tests: runs a fixed sequence of calls against our server.

Usage: aiorpcx_client.py tcp <port> | ws <url> | tcp-v1 <port>
(tcp-v1 speaks JSON-RPC 1.0, which has neither named params nor batches: those steps are skipped)
Prints one line "<step> <json>" per step and "DONE" at the end. The server must offer:
add, greet (named), fail_with_data, note / notes, call_back (asks the client to "double").
"""
import asyncio
import json
import sys

from aiorpcx import JSONRPCConnection, JSONRPCv1, RPCError, RPCSession, connect_rs, connect_ws


async def answer(request):
    if request.method == 'double':
        return request.args[0] * 2
    raise RPCError(-32601, 'unknown method')


class ClientSide(RPCSession):
    async def handle_request(self, request):
        return await answer(request)


class ClientSideV1(ClientSide):
    def default_connection(self):
        return JSONRPCConnection(JSONRPCv1)


def report(step, value):
    print(step, json.dumps(value), flush=True)


async def run(session, v1=False):
    report('add', await session.send_request('add', [2, 3]))
    if not v1:
        report('greet', await session.send_request('greet', {'name': 'py'}))
    try:
        await session.send_request('fail_with_data', [])
        report('error', None)
    except RPCError as error:
        report('error', [error.code, error.message])
    await session.send_notification('note', ['n1'])
    await session.send_notification('note', ['n2'])
    report('notes', await session.send_request('notes', []))
    if not v1:
        async with session.send_batch() as batch:
            batch.add_request('add', [1, 1])
            batch.add_notification('note', ['n3'])
            batch.add_request('add', [10, 20])
        report('batch', list(batch.results))
    report('call_back', await session.send_request('call_back', [21]))
    print('DONE', flush=True)


async def main(kind, where):
    if kind == 'ws':
        # aiorpcx 0.22's connect_ws drops its session_factory argument, so the
        # session is a plain RPCSession: give it the handler directly.
        async with connect_ws(where) as session:
            session.handle_request = answer
            await run(session)
    elif kind == 'tcp-v1':
        async with connect_rs('127.0.0.1', int(where), session_factory=ClientSideV1) as session:
            await run(session, v1=True)
    else:
        async with connect_rs('127.0.0.1', int(where), session_factory=ClientSide) as session:
            await run(session)


asyncio.run(main(sys.argv[1], sys.argv[2]))
