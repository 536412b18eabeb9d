"""Autobahn|Python peer for the @rt/wamp event retention interop test.

usage: autobahn_retention.py URL REALM MODE SERIALIZER
  MODE publisher:  publishes a retained event on com.py.retained (acknowledged), leaves,
                   prints one RESULT line (JSON).
  MODE subscriber: subscribes to com.ts. (prefix) asking for retained events, waits for the one on
                   com.ts.retained, leaves, prints one RESULT line (JSON) with what it got.
"""
import asyncio
import json
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import PublishOptions, SubscribeOptions

URL, REALM, MODE, SERIALIZER = sys.argv[1:5]


class Peer(ApplicationSession):
    async def onJoin(self, details):
        self.result = {}
        try:
            if MODE == 'publisher':
                publication = await self.publish(
                    'com.py.retained', 'from-python', 2, options=PublishOptions(retain=True, acknowledge=True), n=1)
                self.result['publication'] = publication.id
            else:
                got = asyncio.get_event_loop().create_future()

                def on_event(*args, **kwargs):
                    event = kwargs.pop('details')
                    if not got.done():
                        got.set_result({'args': list(args), 'kwargs': kwargs, 'retained': event.retained, 'topic': event.topic})

                await self.subscribe(on_event, 'com.ts.', options=SubscribeOptions(
                    match='prefix', get_retained=True, details_arg='details'))
                self.result['event'] = await asyncio.wait_for(got, 10)
        except Exception as error:  # report, do not hang
            self.result['exception'] = repr(error)
        self.leave()

    def onLeave(self, details):
        print('RESULT', json.dumps(self.result), flush=True)
        self.disconnect()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


serializer = {'msgpack': MsgPackSerializer, 'cbor': CBORSerializer}.get(SERIALIZER, JsonSerializer)()
ApplicationRunner(URL, REALM, serializers=[serializer]).run(Peer)
