#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run a command on a new pseudo-terminal (its controlling terminal) and answer
its questions: `ptydrive.py ANSWERS CMD [ARG...]`. ANSWERS is comma-separated;
each is written, with a newline, when the next `nslab run --interactive`
question appears ("allow? [y]es ..."); "-" answers nothing (the question times
out). Everything the terminal showed goes to stdout; the exit status is the
command's (128+N for signal N). A command still running after 60 s is killed."""
import os
import pty
import re
import select
import sys
import time

PROMPT = re.compile(rb"allow\? \[y\]es / \[n\]o / \[a\]lways / \[d\]etails \(\d+ s\) ")


def main():
    answers = [a for a in sys.argv[1].split(",") if a] if sys.argv[1] else []
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    seen, asked, deadline = b"", 0, time.monotonic() + 60
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
        seen += chunk
        # one answer per question shown; a "d" answer brings the same question again
        while True:
            m = PROMPT.search(seen)
            if not m:
                break
            seen = seen[m.end():]
            if asked < len(answers) and answers[asked] != "-":
                os.write(fd, answers[asked].encode() + b"\n")
            asked += 1
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
