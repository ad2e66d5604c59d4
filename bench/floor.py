"""The floor: a bare async fetch of the index and every page it links to, nothing else.

``python -m bench.floor URL [--concurrency 32]`` prints one JSON line: pages fetched, body
bytes, HTTP statuses and the seconds from the first request to the last body read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections import Counter
from urllib.parse import urljoin

import aiohttp

# The markdown links of the index; the same targets the spider follows.
LINK = re.compile(r"\]\(\s*<?([^)\s>]+\.md)>?\s*\)")


async def fetch_all(index_url: str, concurrency: int) -> dict[str, object]:
    statuses: Counter[int] = Counter()
    body_bytes = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(index_url) as response:
            index = await response.read()
            statuses[response.status] += 1
            body_bytes += len(index)
        queue = [urljoin(index_url, m) for m in LINK.findall(index.decode("utf-8"))]

        async def worker() -> None:
            nonlocal body_bytes
            while queue:
                async with session.get(queue.pop()) as response:
                    # Read first, then add: ``x += len(await ...)`` loads x before the await
                    # and loses what other workers added meanwhile.
                    body = await response.read()
                    body_bytes += len(body)
                    statuses[response.status] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "pages": sum(statuses.values()),
        "body_bytes": body_bytes,
        "status": {str(code): count for code, count in sorted(statuses.items())},
        "fetch_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(fetch_all(args.url, args.concurrency))))


if __name__ == "__main__":
    main()
