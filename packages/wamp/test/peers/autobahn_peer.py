"""Autobahn|Python peer for the @rt/wamp interop tests.

usage: autobahn_peer.py URL REALM MODE SERIALIZER
  URL ws://... (WebSocket) or tcp://host:port (RawSocket).
  MODE callee: registers com.py.* procedures and a subscription, prints READY, runs until killed.
  MODE caller: calls com.ts.* procedures registered by the test, checks pub/sub with exclusion,
               leaves with GOODBYE and prints one RESULT line (JSON) before exiting.
"""
import asyncio
import json
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import CallOptions, PublishOptions, RegisterOptions

URL, REALM, MODE, SERIALIZER = sys.argv[1:5]


def out(*parts):
    print(*parts, flush=True)


class Callee(ApplicationSession):
    async def onJoin(self, details):
        def add(a, b):
            return a + b

        def fail(reason):
            raise ApplicationError('com.py.error.failed', reason, code=7)

        async def count(n, details=None):
            for i in range(1, n + 1):
                if details.progress:
                    details.progress(i)
                await asyncio.sleep(0)
            return 'counted %d' % n

        await self.register(add, 'com.py.add')
        await self.register(fail, 'com.py.fail')
        await self.register(count, 'com.py.count', options=RegisterOptions(details_arg='details'))

        def on_event(*args, **kwargs):
            self.publish('com.py.echo', *args, **kwargs)

        await self.subscribe(on_event, 'com.py.topic')
        out('READY', details.session)


class Caller(ApplicationSession):
    async def onJoin(self, details):
        result = {}
        try:
            result['mul'] = await self.call('com.ts.mul', 6, 7)
            progress = []
            final = await self.call('com.ts.count', 3, options=CallOptions(on_progress=lambda i: progress.append(i)))
            result['progress'] = progress
            result['final'] = final
            try:
                await self.call('com.ts.fail')
                result['error'] = None
            except ApplicationError as error:
                result['error'] = [error.error, list(error.args), error.kwargs]
            kw = await self.call('com.ts.kw', x=1)
            result['kw'] = [list(kw.results), kw.kwresults]

            own = []
            got = asyncio.get_event_loop().create_future()

            def on_event(value):
                own.append(value)
                if value == 'included' and not got.done():
                    got.set_result(True)

            await self.subscribe(on_event, 'com.py.self')
            await self.publish('com.py.self', 'excluded', options=PublishOptions(acknowledge=True))
            await self.publish('com.py.self', 'included', options=PublishOptions(acknowledge=True, exclude_me=False))
            await asyncio.wait_for(got, 5)
            result['own'] = own
            result['session'] = details.session
        except Exception as error:  # report, do not hang
            result['exception'] = repr(error)
        self.result = result
        self.leave()

    def onLeave(self, details):
        out('RESULT', json.dumps({**self.result, 'leave': details.reason}))
        self.disconnect()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


def run_rawsocket(session_class, serializer):
    """Run one session over RawSocket (ApplicationRunner only speaks WebSocket)."""
    from urllib.parse import urlparse
    from autobahn.asyncio.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol
    from autobahn.wamp.types import ComponentConfig

    class Protocol(WampRawSocketClientProtocol):
        # Autobahn 22.7's asyncio RawSocket client sets only the private field, but the session
        # reads the public one when WELCOME arrives.
        @property
        def transport_details(self):
            return self._transport_details

    target = urlparse(URL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    factory = WampRawSocketClientFactory(lambda: session_class(ComponentConfig(REALM)), serializer=serializer)
    factory.protocol = Protocol
    loop.run_until_complete(loop.create_connection(factory, target.hostname, target.port))
    loop.run_forever()


serializer = {'msgpack': MsgPackSerializer, 'cbor': CBORSerializer}.get(SERIALIZER, JsonSerializer)()
session_class = Callee if MODE == 'callee' else Caller
if URL.startswith('tcp://'):
    run_rawsocket(session_class, serializer)
else:
    ApplicationRunner(URL, REALM, serializers=[serializer]).run(session_class)
