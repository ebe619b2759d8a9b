"""The FastAPI app the uvicorn-fastapi launcher serves: /slow?ms=N answers after N ms (2000)."""
import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/slow")
async def slow(ms: int = 2000):
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}
