import signal
import sys


def _terminated(signum, frame):  # SIGTERM while the libraries load is an interrupt too: exit 130, one line
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _terminated)
try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C or SIGTERM while the libraries load: nothing was started
    print("error: interrupted before anything started", file=sys.stderr)
    sys.exit(130)

try:
    sys.exit(main())
except KeyboardInterrupt:  # before the command's own handling began (reading the options)
    print("error: interrupted before anything started", file=sys.stderr)
    sys.exit(130)
