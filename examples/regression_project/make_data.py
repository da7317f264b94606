"""Write data/houses.csv: 240 made-up houses, their features and price (deterministic).

The price (thousands) grows with area and rooms, falls with age and, faster than linearly, with
the distance to the centre, plus noise; the same file comes out on every run:

    python make_data.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

ROWS = 240
OUT = Path(__file__).parent / "data" / "houses.csv"


def main() -> None:
    rng = np.random.default_rng(0)
    area = rng.uniform(40, 200, ROWS)
    rooms = rng.integers(1, 7, ROWS)
    age = rng.uniform(0, 80, ROWS)
    distance = rng.uniform(0.5, 25, ROWS)
    price = (
        2.0 * area + 12.0 * rooms - 1.2 * age - 0.25 * distance**2 + rng.normal(0, 15, ROWS) + 50
    )
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["area_m2", "rooms", "age_years", "distance_km", "price"])
        for row in zip(area, rooms, age, distance, price, strict=True):
            writer.writerow(
                [f"{row[0]:.1f}", int(row[1]), f"{row[2]:.1f}", f"{row[3]:.2f}", f"{row[4]:.1f}"]
            )


if __name__ == "__main__":
    main()
