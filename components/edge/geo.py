"""Where things are: AWS regions and Cloudflare's load-balancing regions on the globe, and distances.

One table of places, one distance function. The CDN's geo steering (`components.edge.steering`) orders
regions by these distances; anything else that needs "the nearest region" (a latency estimate, say)
must use the same functions, so that the steering table and the estimate cannot disagree.

Coordinates are of the metro area AWS names for each region (AWS does not publish data-centre
locations; "US East (N. Virginia)" is placed at Ashburn, the area's data-centre cluster). At the
scale of steering, where the nearest candidates differ by thousands of kilometres, the tens of
kilometres between a metro's centre and its data centres do not change an answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "AWS_REGION_LOCATIONS",
    "EARTH_RADIUS_KM",
    "CloudflareRegion",
    "Place",
    "distance_km",
]

#: Mean Earth radius (IUGG), the radius of the sphere great-circle distances are measured on.
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    """A named point: `latitude` north and `longitude` east, in decimal degrees."""

    name: str
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError(f"{self.name}: ({self.latitude}, {self.longitude}) is not on the globe")


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance between two places (haversine, on a sphere of the mean Earth radius;
    within 0.5 % of the ellipsoidal distance, well below what separates candidate regions)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


#: Commercial AWS regions, placed at the metro area of their AWS name (docs.aws.amazon.com,
#: "Regions and Availability Zones"); coordinates of the metro from public gazetteers.
AWS_REGION_LOCATIONS: dict[str, Place] = {
    place.name: place
    for place in (
        Place("us-east-1", 39.04, -77.49),  # N. Virginia (Ashburn)
        Place("us-east-2", 39.96, -83.00),  # Ohio (Columbus)
        Place("us-west-1", 37.34, -121.89),  # N. California (San Jose)
        Place("us-west-2", 45.84, -119.70),  # Oregon (Boardman)
        Place("ca-central-1", 45.50, -73.57),  # Canada (Montréal)
        Place("ca-west-1", 51.05, -114.07),  # Canada West (Calgary)
        Place("mx-central-1", 20.59, -100.39),  # Mexico (Querétaro)
        Place("sa-east-1", -23.55, -46.63),  # São Paulo
        Place("eu-west-1", 53.35, -6.26),  # Ireland (Dublin)
        Place("eu-west-2", 51.51, -0.13),  # London
        Place("eu-west-3", 48.86, 2.35),  # Paris
        Place("eu-central-1", 50.11, 8.68),  # Frankfurt
        Place("eu-central-2", 47.38, 8.54),  # Zurich
        Place("eu-north-1", 59.33, 18.07),  # Stockholm
        Place("eu-south-1", 45.46, 9.19),  # Milan
        Place("eu-south-2", 41.65, -0.88),  # Spain (Zaragoza, Aragón)
        Place("il-central-1", 32.09, 34.78),  # Israel (Tel Aviv)
        Place("me-south-1", 26.23, 50.59),  # Bahrain (Manama)
        Place("me-central-1", 25.20, 55.27),  # UAE (Dubai)
        Place("af-south-1", -33.92, 18.42),  # Cape Town
        Place("ap-south-1", 19.08, 72.88),  # Mumbai
        Place("ap-south-2", 17.39, 78.49),  # Hyderabad
        Place("ap-east-1", 22.32, 114.17),  # Hong Kong
        Place("ap-east-2", 25.03, 121.57),  # Taipei
        Place("ap-northeast-1", 35.68, 139.69),  # Tokyo
        Place("ap-northeast-2", 37.57, 126.98),  # Seoul
        Place("ap-northeast-3", 34.69, 135.50),  # Osaka
        Place("ap-southeast-1", 1.35, 103.82),  # Singapore
        Place("ap-southeast-2", -33.87, 151.21),  # Sydney
        Place("ap-southeast-3", -6.21, 106.85),  # Jakarta
        Place("ap-southeast-4", -37.81, 144.96),  # Melbourne
        Place("ap-southeast-5", 3.14, 101.69),  # Malaysia (Kuala Lumpur)
        Place("ap-southeast-6", -36.85, 174.76),  # New Zealand (Auckland)
        Place("ap-southeast-7", 13.76, 100.50),  # Thailand (Bangkok)
    )
}


class CloudflareRegion(str, Enum):
    """Cloudflare's geographic regions: the keys of a load balancer's `region_pools` and the values
    of a pool's `check_regions` (developers.cloudflare.com, Load Balancing, "Region mapping API").
    A proxied request is steered by the region of the Cloudflare data centre that received it."""

    WNAM = "WNAM"
    ENAM = "ENAM"
    WEU = "WEU"
    EEU = "EEU"
    NSAM = "NSAM"
    SSAM = "SSAM"
    OC = "OC"
    ME = "ME"
    NAF = "NAF"
    SAF = "SAF"
    SAS = "SAS"
    SEAS = "SEAS"
    NEAS = "NEAS"

    @property
    def place(self) -> Place:
        """Where the region's users are, as one point: see `_CLOUDFLARE_CENTRES`."""
        return _CLOUDFLARE_CENTRES[self]


#: Each Cloudflare region as one point: a large metro near the middle of the region's population,
#: named with Cloudflare's description of the region. Steering orders AWS regions by distance from
#: it. One point per region is coarse at a region's edges (Cloudflare maps whole countries, and US
#: states and Canadian provinces, to regions); per-country steering would refine it.
_CLOUDFLARE_CENTRES: dict[CloudflareRegion, Place] = {
    CloudflareRegion.WNAM: Place("Western North America (Los Angeles)", 34.05, -118.24),
    CloudflareRegion.ENAM: Place("Eastern North America (New York)", 40.71, -74.01),
    CloudflareRegion.WEU: Place("Western Europe (Paris)", 48.86, 2.35),
    CloudflareRegion.EEU: Place("Eastern Europe (Moscow)", 55.76, 37.62),
    CloudflareRegion.NSAM: Place("Northern South America (Bogotá)", 4.71, -74.07),
    CloudflareRegion.SSAM: Place("Southern South America (São Paulo)", -23.55, -46.63),
    CloudflareRegion.OC: Place("Oceania (Sydney)", -33.87, 151.21),
    CloudflareRegion.ME: Place("Middle East (Riyadh)", 24.71, 46.68),
    CloudflareRegion.NAF: Place("Northern Africa (Cairo)", 30.04, 31.24),
    CloudflareRegion.SAF: Place("Southern Africa (Johannesburg)", -26.20, 28.05),
    CloudflareRegion.SAS: Place("Southern Asia (Delhi)", 28.61, 77.21),
    CloudflareRegion.SEAS: Place("South East Asia (Jakarta)", -6.21, 106.85),
    CloudflareRegion.NEAS: Place("North East Asia (Tokyo)", 35.68, 139.69),
}
