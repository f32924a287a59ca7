#!/usr/bin/env python3
"""tests/netns/smtp_sink.py DIR READY_FILE — a tiny SMTP sink on 127.0.0.1 for the quota test
(tests/netns/quota.sh): listens on a free loopback port, writes that port to READY_FILE, and
answers the commands libcurl's SMTP sends (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT). Each
message received is written whole to DIR/msg-N.eml (N from 1), the envelope first as
"X-Envelope-From:"/"X-Envelope-To:" lines. Standard library only (python3's smtpd module is gone
in 3.12). Runs until SIGTERM. Loopback only: it never accepts from elsewhere."""
import os
import signal
import socket
import sys
import threading

out_dir, ready = sys.argv[1], sys.argv[2]
count = 0
lock = threading.Lock()


def serve(conn):
    global count
    f = conn.makefile("rb")
    env_from, env_to = "", []

    def say(line):
        conn.sendall(line.encode() + b"\r\n")

    say("220 xvps-test-sink ESMTP")
    try:
        while True:
            raw = f.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                say("250 xvps-test-sink")
            elif verb == "MAIL":
                env_from, env_to = line[10:].strip(), []
                say("250 ok")
            elif verb == "RCPT":
                env_to.append(line[8:].strip())
                say("250 ok")
            elif verb == "DATA":
                say("354 end with <CRLF>.<CRLF>")
                body = []
                while True:
                    raw = f.readline(65536)
                    if not raw or raw in (b".\r\n", b".\n"):
                        break
                    if raw.startswith(b".."):
                        raw = raw[1:]
                    body.append(raw)
                with lock:
                    count += 1
                    n = count
                tmp = os.path.join(out_dir, ".msg-%d.tmp" % n)
                with open(tmp, "wb") as m:
                    m.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" %
                             (env_from, " ".join(env_to))).encode())
                    m.writelines(body)
                os.rename(tmp, os.path.join(out_dir, "msg-%d.eml" % n))
                say("250 kept as %d" % n)
            elif verb == "QUIT":
                say("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                env_from, env_to = "", []
                say("250 ok")
            else:
                say("502 not implemented")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    with open(ready + ".tmp", "w") as r:
        r.write("%d\n" % srv.getsockname()[1])
    os.rename(ready + ".tmp", ready)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
