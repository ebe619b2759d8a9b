"""A plain ASGI app (no framework) the uvicorn-sse launcher serves.

  GET /stream   text/event-stream: `data: tick N` every 100 ms for 3 s, then `data: [DONE]` (the
                OpenAI-style completion marker), then the end of the chunked message
  GET /health   'ok'
"""
import asyncio


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] != "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain"), (b"content-length", b"3")]})
        await send({"type": "http.response.body", "body": b"ok\n"})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
    for n in range(30):
        await send({"type": "http.response.body", "body": b"data: tick %d\n\n" % n, "more_body": True})
        await asyncio.sleep(0.1)
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})
