#!/usr/bin/env python3
"""dom0sh.py SOCKET [--timeout S] COMMAND — runs COMMAND (a bash command line) in the appliance's
dom0 through the test shell (dom0-image/run.sh's virtio-serial port org.xvps.shell, whose host end
is the unix socket SOCKET; dom0 runs xvps-testshell there when booted with xvps.testshell).
Prints the command's output (stdout and stderr merged) and exits with its status; 124 on a
timeout, 125 when the shell cannot be reached.

The dom0 side is a plain `bash -s` on the port: a new one starts a second after the previous
connection closed, and bytes sent while none is reading are lost, so this first sends a marker
echo until it comes back, then the command (base64, with stdin from /dev/null), framed by markers.
"""
import base64, os, socket, sys, time

def recv_some(s, timeout):
    """Bytes that arrive within timeout seconds (b"" when none), None when the shell closed."""
    s.settimeout(timeout)
    try:
        d = s.recv(65536)
    except socket.timeout:
        return b""
    if not d:
        print("dom0sh: connection closed", file=sys.stderr)
        return None
    return d

def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = args.pop(0)
    timeout = 120.0
    if args[0] == "--timeout":
        timeout = float(args[1])
        args = args[2:]
    cmd = " ".join(args)
    tag = "%d_%d" % (os.getpid(), int(time.time() * 1000))
    deadline = time.time() + timeout
    s = None
    while s is None:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
        except OSError:
            s = None
            if time.time() > deadline:
                print("dom0sh: cannot connect to %s" % path, file=sys.stderr)
                return 125
            time.sleep(1)
    buf = b""
    ready = ("XVPS_READY_" + tag).encode()
    # Sync: until a shell echoes the marker (the shell may still be starting).
    sync_until = min(deadline, time.time() + 90)
    last = 0.0
    while ready not in buf:
        now = time.time()
        if now > sync_until:
            print("dom0sh: no shell answers on %s" % path, file=sys.stderr)
            return 125
        if now - last >= 1.5:
            s.sendall(("echo XVPS_READY_%s\n" % tag).encode())
            last = now
        d = recv_some(s, 0.5)
        if d is None:
            return 125
        buf += d
    b64 = base64.b64encode(cmd.encode()).decode()
    line = ("echo XVPS_BEGIN_%s; eval \"$(echo %s | base64 -d)\" </dev/null 2>&1; "
            "xvps_rc=$?; echo; echo \"XVPS_END_%s $xvps_rc\"\n" % (tag, b64, tag))
    s.sendall(line.encode())
    begin = ("XVPS_BEGIN_%s\n" % tag).encode()
    end = ("\nXVPS_END_%s " % tag).encode()
    buf = b""
    while True:
        i = buf.find(begin)
        if i >= 0:
            j = buf.find(end, i)
            if j >= 0 and buf.find(b"\n", j + len(end)) >= 0:
                out = buf[i + len(begin):j]
                rest = buf[j + len(end):]
                rc = int(rest.split(b"\n", 1)[0])
                sys.stdout.buffer.write(out)
                sys.stdout.flush()
                s.close()
                return rc
        left = deadline - time.time()
        if left <= 0:
            sys.stdout.buffer.write(buf[buf.find(begin) + len(begin):] if buf.find(begin) >= 0 else b"")
            print("dom0sh: timed out after %g s: %s" % (timeout, cmd), file=sys.stderr)
            s.close()
            return 124
        d = recv_some(s, min(left, 1.0))
        if d is None:
            return 125
        buf += d

if __name__ == "__main__":
    sys.exit(main())
