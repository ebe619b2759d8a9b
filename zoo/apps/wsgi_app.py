"""The WSGI app the gunicorn launchers serve: /slow?ms=N answers after N ms (2000), else 'ok'."""
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        ms = parse_qs(environ.get("QUERY_STRING", "")).get("ms", ["2000"])[0]
        time.sleep(int(ms) / 1000 if ms.isdigit() else 2)
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
