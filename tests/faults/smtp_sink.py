"""An SMTP server for the fault suite: records every message, and can be told to misbehave.

    python tests/faults/smtp_sink.py --port 2525 --record messages.jsonl --control mode.json

Every message accepted is one JSON line in the record file — its Message-ID, recipients
and the time — written (and flushed to disk) before the final "250", so a message the
sender saw accepted is always on record. The control file, re-read for every connection
and every message, says how to behave:

* `{"mode": "accept", "delay": 0.2}` — accept, waiting `delay` seconds before the final
  "250" of each message (so a batch takes long enough to be interrupted);
* `{"mode": "refuse", "code": 421}` — answer the greeting with the code (4xx or 5xx) and
  hang up: the client sees the server refusing (smtplib.SMTPConnectError);
* `{"mode": "hang"}` — accept the connection and never answer.

A missing or unreadable control file means accept at once. Standard library only, so the
suite needs nothing installed beyond the project.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from email.parser import BytesHeaderParser
from pathlib import Path

LINE_LIMIT = 1_000_000


class Sink:
    def __init__(self, record: Path, control: Path) -> None:
        self.record = record
        self.control = control

    def behaviour(self) -> dict:
        try:
            return json.loads(self.control.read_text())
        except (OSError, ValueError):
            return {"mode": "accept"}

    def keep(self, data: bytes, recipients: list[str]) -> None:
        headers = BytesHeaderParser().parsebytes(data)
        line = json.dumps(
            {
                "message_id": headers.get("Message-ID", ""),
                "to": recipients,
                "subject": headers.get("Subject", ""),
                "at": time.time(),
            }
        )
        with self.record.open("a") as record:
            record.write(line + "\n")
            record.flush()
            os.fsync(record.fileno())

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.conversation(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away (killed, or gave up): nothing to answer
        finally:
            writer.close()

    async def conversation(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        behaviour = self.behaviour()
        mode = behaviour.get("mode", "accept")
        if mode == "hang":
            while await reader.read(65536):
                pass
            return
        if mode == "refuse":
            code = int(behaviour.get("code", 421))
            writer.write(f"{code} 4.3.2 sink refusing for the test\r\n".encode())
            await writer.drain()
            return

        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await reply("220 sink ESMTP ready")
        recipients: list[str] = []
        while True:
            line = await reader.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                await reply("250-sink" if verb == "EHLO" else "250 sink")
                if verb == "EHLO":
                    await reply("250-8BITMIME")
                    await reply("250 SMTPUTF8")
            elif verb == "MAIL":
                recipients = []
                await reply("250 2.1.0 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip().strip("<>"))
                await reply("250 2.1.5 OK")
            elif verb == "DATA":
                await reply("354 End data with <CR><LF>.<CR><LF>")
                data = await reader.readuntil(b"\r\n.\r\n")
                body = data[: -len(b".\r\n")].replace(b"\r\n..", b"\r\n.")
                delay = float(self.behaviour().get("delay", 0))
                if delay:
                    await asyncio.sleep(delay)
                self.keep(body, recipients)
                await reply("250 2.0.0 OK: queued")
            elif verb in ("RSET", "NOOP"):
                await reply("250 2.0.0 OK")
            elif verb == "QUIT":
                await reply("221 2.0.0 Bye")
                return
            else:
                await reply("502 5.5.2 Command not recognised")


async def main(port: int, record: Path, control: Path) -> None:
    sink = Sink(record, control)
    server = await asyncio.start_server(sink.serve, "127.0.0.1", port, limit=LINE_LIMIT)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--control", type=Path, required=True)
    arguments = parser.parse_args()
    arguments.record.touch()
    asyncio.run(main(arguments.port, arguments.record, arguments.control))
