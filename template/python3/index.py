"""Entry point of a classic-watchdog Python function.

The watchdog starts one process per request and writes the request body to
stdin. The whole of stdin is passed to function.handler.handle as a string; a
result other than None is printed (with a trailing newline) as the response.
"""
import sys

from function import handler


def main():
    body = sys.stdin.read()
    result = handler.handle(body)
    if result is not None:
        print(result)


if __name__ == "__main__":
    main()
