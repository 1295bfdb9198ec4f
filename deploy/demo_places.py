"""Where the demo shop's customers live, and what they are called.

Cities with their ISO 3166-2 region, coordinates, a postal code and a weight; many of the
shop's Japanese customers live in Hokuriku (Ishikawa, Toyama, Niigata), where the Noto
earthquake of 2024-01-01 struck. Names come in pools by generation: a customer's persona
picks the pool.
"""

from __future__ import annotations

from typing import NamedTuple


class Place(NamedTuple):
    """A city customers live in."""

    country: str
    region: str
    city: str
    lat: float
    lon: float
    postal: str
    timezone: str
    weight: float


def _jp(region: str, city: str, lat: float, lon: float, postal: str, weight: float) -> Place:
    return Place("JP", region, city, lat, lon, postal, "Asia/Tokyo", weight)


JP = [
    # Hokuriku and its neighbours, around the Noto Peninsula
    _jp("JP-17", "珠洲市", 37.4367, 137.2606, "927-1214", 1.0),
    _jp("JP-17", "輪島市", 37.3906, 136.8992, "928-0001", 1.5),
    _jp("JP-17", "穴水町", 37.2306, 136.9117, "927-0026", 0.6),
    _jp("JP-17", "七尾市", 37.0431, 136.9672, "926-0811", 2.0),
    _jp("JP-17", "志賀町", 37.0061, 136.7781, "925-0198", 0.8),
    _jp("JP-17", "羽咋市", 36.8936, 136.7789, "925-0036", 0.8),
    _jp("JP-17", "金沢市", 36.5613, 136.6562, "920-0853", 6.0),
    _jp("JP-17", "白山市", 36.5147, 136.5656, "924-0871", 2.0),
    _jp("JP-17", "小松市", 36.4083, 136.4453, "923-0921", 1.5),
    _jp("JP-16", "富山市", 36.6953, 137.2113, "930-0005", 4.0),
    _jp("JP-16", "高岡市", 36.7541, 137.0257, "933-0912", 2.0),
    _jp("JP-16", "氷見市", 36.8567, 136.9731, "935-0016", 0.8),
    _jp("JP-15", "新潟市", 37.9162, 139.0364, "950-0087", 4.0),
    _jp("JP-15", "上越市", 37.1478, 138.2360, "943-0834", 1.5),
    _jp("JP-15", "長岡市", 37.4464, 138.8512, "940-0062", 1.5),
    _jp("JP-20", "長野市", 36.6486, 138.1811, "380-0846", 2.0),
    _jp("JP-21", "高山市", 36.1461, 137.2522, "506-0011", 1.0),
    _jp("JP-18", "福井市", 36.0641, 136.2196, "910-0005", 1.5),
    # the rest of Japan
    _jp("JP-13", "新宿区", 35.6938, 139.7034, "160-0022", 14.0),
    _jp("JP-13", "世田谷区", 35.6464, 139.6533, "154-0004", 10.0),
    _jp("JP-14", "横浜市", 35.4660, 139.6223, "220-0011", 9.0),
    _jp("JP-14", "川崎市", 35.5308, 139.7029, "210-0007", 4.0),
    _jp("JP-11", "さいたま市", 35.8617, 139.6455, "330-0063", 5.0),
    _jp("JP-12", "千葉市", 35.6074, 140.1065, "260-0013", 4.0),
    _jp("JP-23", "名古屋市", 35.1709, 136.8815, "450-0002", 7.0),
    _jp("JP-27", "大阪市", 34.7025, 135.4959, "530-0001", 9.0),
    _jp("JP-26", "京都市", 34.9858, 135.7588, "600-8216", 4.0),
    _jp("JP-28", "神戸市", 34.6913, 135.1830, "650-0021", 4.0),
    _jp("JP-22", "静岡市", 34.9756, 138.3828, "420-0857", 2.0),
    _jp("JP-01", "札幌市", 43.0687, 141.3508, "060-0005", 5.0),
    _jp("JP-04", "仙台市", 38.2601, 140.8822, "980-0021", 3.0),
    _jp("JP-34", "広島市", 34.3966, 132.4596, "730-0011", 3.0),
    _jp("JP-33", "岡山市", 34.6655, 133.9180, "700-0023", 2.0),
    _jp("JP-40", "福岡市", 33.5902, 130.4017, "810-0001", 5.0),
    _jp("JP-43", "熊本市", 32.8032, 130.7079, "860-0806", 2.0),
    _jp("JP-47", "那覇市", 26.2124, 127.6792, "900-0015", 1.5),
]

_E, _C, _M, _P = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
US = [
    Place("US", "US-NY", "New York", 40.7506, -73.9972, "10001", _E, 8.0),
    Place("US", "US-NY", "Brooklyn", 40.6943, -73.9903, "11201", _E, 4.0),
    Place("US", "US-CA", "Los Angeles", 34.0614, -118.2385, "90012", _P, 7.0),
    Place("US", "US-CA", "San Francisco", 37.7726, -122.4099, "94103", _P, 4.0),
    Place("US", "US-CA", "San Diego", 32.7157, -117.1611, "92101", _P, 3.0),
    Place("US", "US-WA", "Seattle", 47.6101, -122.3344, "98101", _P, 3.0),
    Place("US", "US-OR", "Portland", 45.5202, -122.6742, "97205", _P, 2.0),
    Place("US", "US-IL", "Chicago", 41.8858, -87.6181, "60601", _C, 5.0),
    Place("US", "US-TX", "Houston", 29.7589, -95.3677, "77002", _C, 5.0),
    Place("US", "US-TX", "Austin", 30.2711, -97.7437, "78701", _C, 3.0),
    Place("US", "US-FL", "Miami", 25.7743, -80.1937, "33130", _E, 4.0),
    Place("US", "US-GA", "Atlanta", 33.7550, -84.3900, "30303", _E, 3.0),
    Place("US", "US-MA", "Boston", 42.3570, -71.0636, "02108", _E, 3.0),
    Place("US", "US-PA", "Philadelphia", 39.9522, -75.1732, "19103", _E, 3.0),
    Place("US", "US-CO", "Denver", 39.7508, -104.9966, "80202", _M, 2.0),
    Place("US", "US-AZ", "Phoenix", 33.4484, -112.0740, "85004", "America/Phoenix", 2.0),
    Place("US", "US-HI", "Honolulu", 21.3069, -157.8583, "96813", "Pacific/Honolulu", 1.0),
    Place("US", "US-LA", "New Orleans", 29.9511, -90.0715, "70112", _C, 1.0),
    Place("US", "US-MN", "Minneapolis", 44.9778, -93.2650, "55401", _C, 2.0),
]

# (written, romanized): family names first, then given names by generation.
JA_FAMILY = [
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"), ("清水", "shimizu"), ("森", "mori"),
    ("池田", "ikeda"), ("橋本", "hashimoto"), ("石川", "ishikawa"), ("前田", "maeda"),
    ("中川", "nakagawa"), ("北村", "kitamura"), ("坂本", "sakamoto"), ("西田", "nishida"),
]  # fmt: skip
JA_GIVEN = {
    "senior": [("和子", "kazuko"), ("清", "kiyoshi"), ("幸子", "sachiko"), ("勝", "masaru"),
               ("節子", "setsuko"), ("博", "hiroshi"), ("洋子", "yoko"), ("茂", "shigeru"),
               ("恵子", "keiko"), ("実", "minoru")],
    "family": [("拓也", "takuya"), ("優子", "yuko"), ("直樹", "naoki"), ("美咲", "misaki"),
               ("健太", "kenta"), ("愛", "ai"), ("翔太", "shota"), ("彩", "aya"),
               ("大輔", "daisuke"), ("麻衣", "mai")],
    "general": [("花子", "hanako"), ("太郎", "taro"), ("陽菜", "hina"), ("蓮", "ren"),
                ("結衣", "yui"), ("大翔", "hiroto"), ("さくら", "sakura"), ("悠真", "yuma"),
                ("誠", "makoto"), ("真由美", "mayumi"), ("明美", "akemi"), ("浩二", "koji")],
}  # fmt: skip
EN_FAMILY = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Nguyen", "Kim", "Patel", "Chen",
]  # fmt: skip
EN_GIVEN = {
    "senior": ["Robert", "Mary", "James", "Patricia", "Richard", "Barbara", "Donald",
               "Linda", "Carol", "George", "Dorothy", "Frank"],
    "family": ["Emily", "Michael", "Jessica", "Christopher", "Ashley", "Daniel", "Sarah",
               "Matthew", "Jennifer", "Joshua", "Amanda", "Maria"],
    "general": ["David", "Jose", "Wei", "Priya", "Aaliyah", "Marcus", "Sofia", "Kevin",
                "Lauren", "Tyler", "Olivia", "Noah", "Hannah", "Ethan"],
}  # fmt: skip
FR_FAMILY = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Lefèvre", "Girard", "Fontaine", "Chevalier",
]  # fmt: skip
FR_GIVEN = {
    "senior": ["Jacqueline", "Michel", "Monique", "Jean-Pierre", "Françoise", "Alain"],
    "family": ["Camille", "Julien", "Élodie", "Mathieu", "Céline", "Nicolas"],
    "general": ["Léa", "Hugo", "Chloé", "Jules", "Manon", "Lucas", "Inès", "Gabriel"],
}  # fmt: skip
DOMAINS = {"JP": ["example.jp", "mobile.example.jp"], "US": ["example.com", "example.net"]}
