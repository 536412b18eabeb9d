"""Autobahn|Python client authenticating against the @rt/wamp router.

usage: autobahn_auth.py URL REALM METHOD AUTHID SECRET
  METHOD ticket | wampcra | cryptosign (SECRET: the ticket, the WAMP-CRA secret, or the hex Ed25519 seed)
Prints "JOINED <authid> <authrole> <authmethod>" or "ABORTED <reason>", then exits.
"""
import asyncio
import binascii
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp import auth
from autobahn.wamp.cryptosign import CryptosignKey

URL, REALM, METHOD, AUTHID, SECRET = sys.argv[1:6]


class Client(ApplicationSession):
    def onConnect(self):
        extra = None
        if METHOD == 'cryptosign':
            self.key = CryptosignKey.from_bytes(binascii.a2b_hex(SECRET))
            extra = {'pubkey': self.key.public_key()}
        self.join(REALM, authmethods=[METHOD], authid=AUTHID, authextra=extra)

    def onChallenge(self, challenge):
        if METHOD == 'ticket':
            return SECRET
        if METHOD == 'wampcra':
            key = SECRET
            if 'salt' in challenge.extra:
                key = auth.derive_key(SECRET, challenge.extra['salt'], challenge.extra['iterations'], challenge.extra['keylen'])
            return auth.compute_wcs(key, challenge.extra['challenge'])
        return self.key.sign_challenge(challenge)

    def onJoin(self, details):
        print('JOINED', details.authid, details.authrole, details.authmethod, flush=True)
        self.leave()

    def onLeave(self, details):
        if details.reason != 'wamp.close.goodbye_and_out' and details.reason != 'wamp.close.normal':
            print('ABORTED', details.reason, flush=True)
        self.disconnect()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


ApplicationRunner(URL, REALM).run(Client)
