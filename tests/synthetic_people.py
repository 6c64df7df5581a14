"""A synthetic registry of one kabupaten for measuring duplicate detection (tests/domain/
test_duplicates.py small, bench/duplicates.py whole): households of people with Indonesian names
on one family card in one desa, NIKs as Dukcapil issues them, and copies of some people registered
again with the errors field work makes: typos, spelling variants, titles added, day and month
swapped, a NIK digit changed or two swapped, the NIK left out, a move to the next desa, a new card.

`registry(n, duplicates, seed)` gives the records and the true pairs (original id, copy id)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from server.domain.duplicates import Person


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE = _words("Siti Nur Sri Dewi Rina Wati Aminah Fatimah Aisyah Rahmawati Yuliana Lestari Ratna Ani Sumiati Suryani "
          "Kartini Hasanah Nurhayati Masnah Hadijah Marlina Rosmini Salmah Jumiati Herlina Mariani Asmah Rusmini "
          "Nurul Indah Putri Ayu Wulan Sari Yanti Eka Mega Lina Rini Sulastri Suharti Maimunah Halimah Rukiah "
          "Zainab Jamilah Norhayati Misnah Sarinah Nurjanah Kurniati Hartati Endang Murni Susanti Mulyani Rohani "
          "Saniah Fitriani Yusnita Erna Diana Novita Agustina Mariam Rahmah Khadijah Juleha Samsiah Rusdiana")
MALE = _words("Muhammad Ahmad Abdul Budi Agus Joko Slamet Rudi Hendra Andi Syahrani Rahman Hasan Husin Arifin Yusuf "
        "Ismail Ibrahim Samsul Bahrun Jumadi Supriadi Hamdani Rusli Syamsudin Darmawan Hidayat Iwan Eko Dedi "
        "Wahyu Fajar Rizki Irfan Aris Bambang Sutrisno Sugianto Zainal Saipul Ardiansyah Fauzi Herman Junaidi "
        "Mahmud Salim Sabri Anang Taufik Hamzah Kaharuddin Jamaluddin Syahril Rahmat Sudirman Baharuddin Usman "
        "Yahya Idris Ilham Amir Amran Asran Lukman Rustam Saleh Syarifuddin Syukur Mansyur Jufri Akbar")
SECOND = _words("Rahmawati Aminah Hidayat Saputra Wijaya Kusuma Lestari Sari Hasanah Ramadhan Pratama Nugroho Santoso "
          "Setiawan Hidayah Fitri Abdullah Rahman Hakim Anwar Effendi Syahputra Maulana Firmansyah Wahyuni Utami "
          "Purnama Handayani Safitri Amalia Hamid Yunus Husain Nasution Simanjuntak Rahmadani Kurniawan Susanto "
          "Mulyadi Suhendra Irawan Kasim Latif Usman Saleh Syam Noor Arsyad Bakri Haris Jamil Karim Said")
TITLES = ("Hj.", "H.", "Ibu", "Bapak", "Alm.", "Ny.")
VARIANT = {"Siti": "Sitti", "Muhammad": "Muhamad", "Ahmad": "Achmad", "Aisyah": "Aisah", "Yusuf": "Jusuf",
           "Nur": "Noer", "Syamsudin": "Samsudin", "Fatimah": "Fatima", "Khadijah": "Hadijah", "Rahmat": "Rahmad"}
KECAMATAN = 20
DESA_PER_KECAMATAN = 12


def _desa(draw: random.Random) -> str:
    return f"64.02.{draw.randrange(1, KECAMATAN + 1):02d}.{2000 + draw.randrange(1, DESA_PER_KECAMATAN + 1)}"


def _name(draw: random.Random, sex: str) -> str:
    first = draw.choice(FEMALE if sex == "P" else MALE)
    words = [first] + [draw.choice(SECOND) for _ in range(draw.choice((0, 1, 1, 1, 2)))]
    if first in ("Siti", "Nur", "Sri", "Muhammad", "Ahmad", "Abdul") and len(words) == 1:
        words.append(draw.choice(SECOND))
    return " ".join(words)


def _birth(draw: random.Random, start: int, end: int) -> dt.date:
    return dt.date(start, 1, 1) + dt.timedelta(days=draw.randrange((dt.date(end, 12, 31) - dt.date(start, 1, 1)).days))


def _nik(draw: random.Random, area: str, sex: str, born: dt.date) -> str:
    kecamatan = area.split(".")[2]
    day = born.day + (40 if sex == "P" else 0)
    return f"6402{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{draw.randrange(1, 10000):04d}"


def _household(draw: random.Random, next_id: Callable[[], str]) -> list[Person]:
    area, kk = _desa(draw), f"kk{draw.getrandbits(48):012x}"
    out = []
    for i in range(draw.choice((1, 1, 2, 2, 3, 4, 5))):
        sex = draw.choice("LP")
        born = _birth(draw, 1940, 1995) if i < 2 else _birth(draw, 1996, 2022)
        nik = _nik(draw, area, sex, born) if draw.random() < 0.85 else ""
        out.append(Person(id=next_id(), name=_name(draw, sex), sex=sex, birth_date=born.isoformat(), area_code=area,
                          kk=kk if draw.random() < 0.85 else "", nik=nik))
    return out


def _typo(draw: random.Random, name: str) -> str:
    words = name.split()
    if draw.random() < 0.4 and any(w in VARIANT for w in words):
        return " ".join(VARIANT.get(w, w) for w in words)
    if len(words) > 1 and draw.random() < 0.25:
        return " ".join(words[:-1])  # a second name left out
    i = draw.randrange(len(words))
    w, at = words[i], draw.randrange(1, max(2, len(words[i])))
    letter = draw.choice("aiueonrshk")
    words[i] = draw.choice((w[:at] + w[at + 1:], w[:at] + letter + w[at:], w[:at] + letter + w[at + 1:]))
    return " ".join(words)


def _swap_day_month(born: str) -> str:
    year, month, day = born.split("-")
    return f"{year}-{day}-{month}" if int(day) <= 12 and day != month else born


def _nik_error(draw: random.Random, nik: str) -> str:
    if not nik:
        return nik
    i = draw.randrange(15)
    if draw.random() < 0.5 and nik[i] != nik[i + 1]:
        return nik[:i] + nik[i + 1] + nik[i] + nik[i + 2:]
    j = draw.randrange(6, 16)
    return nik[:j] + str((int(nik[j]) + draw.randrange(1, 10)) % 10) + nik[j + 1:]


def _copy(draw: random.Random, p: Person, new_id: str) -> Person:
    """The person registered again, with one to three of field work's errors."""
    name, born, nik, area, kk = p.name, p.birth_date, p.nik, p.area_code, p.kk
    for error in draw.sample(("typo", "swap", "no_nik", "nik_digit", "title", "moved", "new_kk", "typo"),
                             draw.choice((1, 1, 2, 2, 3))):
        if error == "typo":
            name = _typo(draw, name)
        elif error == "swap":
            born = _swap_day_month(born)
        elif error == "no_nik":
            nik = ""
        elif error == "nik_digit":
            nik = _nik_error(draw, nik)
        elif error == "title":
            name = f"{draw.choice(TITLES)} {name}"
        elif error == "moved":
            area = area[:-1] + str((int(area[-1]) + 1) % 10) if area[-1] != "9" else area[:-1] + "1"
        elif error == "new_kk":
            kk = "" if draw.random() < 0.5 else f"kk{draw.getrandbits(48):012x}"
    return Person(id=new_id, name=name, sex=p.sex, birth_date=born, area_code=area, kk=kk, nik=nik)


def registry(n: int, duplicates: int, seed: int = 29) -> tuple[list[Person], set[tuple[str, str]]]:
    """n records in all, `duplicates` of them copies of others with errors; and the true pairs."""
    draw, counter = random.Random(seed), iter(range(1, 10**9))

    def next_id() -> str:
        return f"p{next(counter):07d}"

    people: list[Person] = []
    while len(people) < n - duplicates:
        people.extend(_household(draw, next_id))
    people = people[:n - duplicates]
    pairs: set[tuple[str, str]] = set()
    for original in draw.sample(people, duplicates):
        copy = _copy(draw, original, next_id())
        people.append(copy)
        pairs.add((original.id, copy.id))
    draw.shuffle(people)
    return people, pairs


def measure(people: list[Person], pairs: set[tuple[str, str]], found: set[tuple[str, str]]) -> tuple[float, float]:
    """Recall (true pairs found) and precision (found pairs that are true); pairs as (lower, higher) id."""
    truth = {(a, b) if a < b else (b, a) for a, b in pairs}
    hits = len(truth & found)
    return hits / len(truth), (hits / len(found) if found else 1.0)
