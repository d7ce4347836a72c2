"""Throughput of the sandbox PIM: collection PATCH requests of 100 lines per second.

    python bench/bench_sandbox.py [--requests 60] [--workers 1] [--db FILE]

Sends realistic product lines (text, prices, metrics, selects, categories) over real
loopback HTTP with ``requests``, latency and faults off, and prints requests/s and lines/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feed_export.sandbox import start_sandbox

COLORS = ["black", "white", "red", "blue", "green", "grey"]
SIZES = ["xs", "s", "m", "l", "xl", "xxl"]


def product_line(n: int) -> bytes:
    return orjson.dumps(
        {
            "identifier": f"bench-{n:06d}",
            "family": "clothing",
            "categories": ["men", "sale"],
            "values": {
                "name": [
                    {"locale": "en_US", "scope": None, "data": f"T-shirt {n}"},
                    {"locale": "fr_FR", "scope": None, "data": f"T-shirt {n}"},
                ],
                "description": [
                    {"locale": "en_US", "scope": "ecommerce", "data": "Soft cotton tee " * 5}
                ],
                "color": [{"locale": None, "scope": None, "data": COLORS[n % 6]}],
                "size": [{"locale": None, "scope": None, "data": SIZES[n % 6]}],
                "material": [{"locale": None, "scope": None, "data": ["cotton", "polyester"]}],
                "price": [
                    {
                        "locale": None,
                        "scope": None,
                        "data": [
                            {"amount": "19.99", "currency": "EUR"},
                            {"amount": "21.50", "currency": "USD"},
                        ],
                    }
                ],
                "weight": [
                    {"locale": None, "scope": None, "data": {"amount": "0.25", "unit": "KILOGRAM"}}
                ],
                "stock_quantity": [{"locale": None, "scope": None, "data": n % 500}],
                "is_new": [{"locale": None, "scope": None, "data": n % 2 == 0}],
            },
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", default=":memory:")
    args = parser.parse_args()
    with start_sandbox(db=args.db) as sb:
        token = requests.post(
            f"{sb.url}/api/oauth/v1/token",
            json={"grant_type": "password", "username": sb.username, "password": sb.password},
            auth=(sb.client_id, sb.client_secret),
            timeout=10,
        ).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/vnd.akeneo.collection+json",
        }
        # half the requests create, half update the same products
        bodies = [
            b"\n".join(product_line((i % (args.requests // 2 or 1)) * 100 + j) for j in range(100))
            for i in range(args.requests)
        ]

        def send(body: bytes) -> int:
            with requests.Session() as session:
                r = session.patch(
                    f"{sb.url}/api/rest/v1/products", data=body, headers=headers, timeout=60
                )
                lines = r.content.split(b"\n")
                assert r.status_code == 200 and len(lines) == 100, r.text[:300]
                return sum(1 for line in lines if b'"status_code":20' in line)

        started = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            ok = sum(pool.map(send, bodies))
        elapsed = time.perf_counter() - started
    total = args.requests * 100
    print(
        f"{args.requests} PATCH requests x 100 lines in {elapsed:.2f} s "
        f"({args.workers} worker(s), db={args.db}): {args.requests / elapsed:.1f} requests/s, "
        f"{total / elapsed:.0f} lines/s, {ok}/{total} lines accepted"
    )
    return 0 if ok == total else 1


if __name__ == "__main__":
    sys.exit(main())
