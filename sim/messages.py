"""A seeded factory of pacs.008.001.08 messages: varied and schema-valid, plus a configurable share of invalid ones.

Valid messages vary banks (BICs), parties, accounts (IBANs with correct check digits, or local account numbers),
currencies with their ISO 4217 minor units, amounts, 1..max_payments payments, group totals, settlement
methods, charge bearers, UETRs and end-to-end ids, optional postal addresses, remittance information and a
business application header (head.001.001.02) in an envelope. Every invalid kind is invalid for one stated
reason, and names the ISO reason code the engine must answer with.
"""

from __future__ import annotations

import random
import bisect
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
HEADER_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"

# a duplicate_uetr message reuses the UETR of a valid message made at least this long before, so that without
# faults the original has long been processed (and has claimed its UETR) when the duplicate arrives
DUPLICATE_AGE_S = 60.0

# kind -> the ISO ExternalStatusReason1Code the engine must reject it with
INVALID_KINDS: tuple[str, ...] = (
    "truncated",
    "wrong_namespace",
    "schema_violation",
    "nb_of_txs_mismatch",
    "control_sum_mismatch",
    "zero_amount",
    "duplicate_uetr",
)
EXPECTED_REASON = {
    "truncated": "FF01",
    "wrong_namespace": "FF01",
    "schema_violation": "FF01",
    "nb_of_txs_mismatch": "AM19",
    "control_sum_mismatch": "AM16",
    "zero_amount": "AM01",
    "duplicate_uetr": "AM05",
}

# invented institutions: (BIC, country)
BANKS = (
    ("NOVAGB2LXXX", "GB"), ("NOVADEFFXXX", "DE"), ("ZEPHDEFFXXX", "DE"), ("ZEPHFRPPXXX", "FR"), ("QUILUS33XXX", "US"),
    ("QUILUS6SXXX", "US"), ("HARBNL2AXXX", "NL"), ("LUMECHZZXXX", "CH"), ("LUMECHZZ80A", "CH"), ("ORIOBEBBXXX", "BE"),
    ("MERIESMMXXX", "ES"), ("CALDITMMXXX", "IT"), ("SAKUJPJTXXX", "JP"), ("FJORSESSXXX", "SE"), ("PEARBHBMXXX", "BH"),
    ("DUNEKWKWXXX", "KW"), ("MAPLCATTXXX", "CA"), ("NOVAGB2L100", "GB"), ("ZEPHDEFF200", "DE"), ("HARBNL2U", "NL"),
)
CURRENCIES = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "SEK": 2, "BHD": 3, "KWD": 3, "CAD": 2}
CURRENCY_WEIGHTS = (("EUR", 40), ("USD", 25), ("GBP", 10), ("CHF", 6), ("JPY", 6), ("SEK", 4), ("BHD", 3), ("KWD", 2), ("CAD", 4))
# BBAN shape per IBAN country: (upper-case letters, then digits)
IBAN_BBAN = {
    "GB": (4, 14), "DE": (0, 18), "NL": (4, 10), "BE": (0, 12), "CH": (0, 17), "FR": (0, 23), "ES": (0, 20),
    "IT": (1, 22), "SE": (0, 20), "BH": (4, 14), "KW": (4, 22),
}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COMPANIES = (
    "Harbour Lane Ceramics Ltd", "Tallgrass Kiln Supply Inc", "Atelier Rive Gauche SARL", "Nordlicht Feinmechanik GmbH",
    "Polder & Dijk Logistiek B.V.", "Alpenrose Uhrenteile AG", "Brasserie du Parc SPRL", "Olivar del Sur S.L.",
    "Officine Lagunari S.r.l.", "Sakura Precision K.K.", "Fjällstuga Trä AB", "Pearl Coast Trading W.L.L.",
    "Dune Crest General Trading Co", "Maple Ridge Outfitters Ltd", "Quay & Anchor Chandlers",
)
PEOPLE_FIRST = ("Mira", "Jonas", "Amélie", "Tomás", "Ingrid", "Kenji", "Layla", "Owen", "Sofia", "Pieter", "Noor", "Lucas")
PEOPLE_LAST = ("Feldmann", "Brandl", "Moreau", "Ortega", "Lindqvist", "Tanaka", "Haddad", "Price", "Rossi", "de Vries", "Al-Sabah", "Tremblay")
TOWNS = {
    "GB": ("Bristol", "BS1 4XY"), "DE": ("Frankfurt am Main", "60311"), "FR": ("Lyon", "69002"), "US": ("Manhattan", "66502"),
    "NL": ("Rotterdam", "3011 AD"), "CH": ("Biel/Bienne", "2502"), "BE": ("Gent", "9000"), "ES": ("Sevilla", "41001"),
    "IT": ("Venezia", "30124"), "JP": ("Nagoya", "450-0002"), "SE": ("Umeå", "903 26"), "BH": ("Manama", "317"),
    "KW": ("Kuwait City", "13001"), "CA": ("Halifax", "B3J 1S9"),
}
REMITTANCE = ("Invoice {n}", "PO {n} spare parts", "Rent {month}", "Salary advance {n}", "Freight charges {n}", "Subscription {month}")
SETTLEMENT_METHODS = ("INDA", "INGA")
CHARGE_BEARERS = ("SHAR", "DEBT", "CRED", "SLEV")


@dataclass(frozen=True)
class Generated:
    index: int
    payload: bytes
    kind: str | None  # None: valid by design
    uetrs: tuple[str, ...]
    duplicate_of: int | None = None  # for duplicate_uetr: the index of the message whose UETR it reuses

    @property
    def invalid(self) -> bool:
        return self.kind is not None

    @property
    def expected_reason(self) -> str | None:
        return EXPECTED_REASON[self.kind] if self.kind else None


class MessageFactory:
    def __init__(self, stream: random.Random, *, invalid_share: float = 0.0, invalid_kinds=(), max_payments: int = 3, bah_share: float = 0.2) -> None:
        self._r = stream
        self._invalid_share = invalid_share
        kinds = [(kind, weight) for kind, weight in invalid_kinds if weight > 0] or [(kind, 1.0) for kind in INVALID_KINDS]
        self._kinds = [kind for kind, _ in kinds]
        self._kind_weights = [weight for _, weight in kinds]
        self._max_payments = max_payments
        self._bah_share = bah_share
        self._count = 0
        self._single_valid: list[tuple[int, str]] = []  # (index, uetr) of valid single-payment messages
        self._single_valid_at: list[float] = []  # their creation times (epoch seconds), ascending
        self._currencies = [c for c, _ in CURRENCY_WEIGHTS]
        self._currency_weights = [w for _, w in CURRENCY_WEIGHTS]

    def next(self, at: datetime) -> Generated:
        r = self._r
        index = self._count
        self._count += 1
        kind = None
        if self._invalid_share and r.random() < self._invalid_share:
            kind = r.choices(self._kinds, self._kind_weights)[0]
            if kind == "duplicate_uetr" and not self._old_enough(at):
                kind = "nb_of_txs_mismatch"  # nothing old enough to duplicate yet
        return self._build(index, at, kind)

    def _old_enough(self, at: datetime) -> int:
        """How many valid one-payment messages were made at least DUPLICATE_AGE_S before ``at``."""
        cutoff = at.timestamp() - DUPLICATE_AGE_S
        return bisect.bisect_right(self._single_valid_at, cutoff)

    # -- building ------------------------------------------------------------------------------------------
    def _build(self, index: int, at: datetime, kind: str | None) -> Generated:
        r = self._r
        payments = 1 if kind in ("zero_amount", "duplicate_uetr") else r.randint(1, self._max_payments)
        with_total = kind == "control_sum_mismatch" or (payments > 1 and r.random() < 0.6)
        group_currency = self._currency() if with_total else None
        instructing, instructed = r.sample(BANKS, 2)
        msg_id = f"{instructing[0][:8]}-{at:%Y%m%d}-{index:08d}"
        settlement_date = f"{at:%Y-%m-%d}"
        created = at.isoformat(timespec="seconds")
        duplicate_of = None
        rows = []
        for n in range(payments):
            currency = group_currency or self._currency()
            amount = Decimal(0) if kind == "zero_amount" else self._amount(currency)
            uetr = self._uetr()
            if kind == "duplicate_uetr":
                duplicate_of, uetr = self._single_valid[r.randrange(self._old_enough(at))]
            rows.append((currency, amount, uetr))
        total = sum((amount for _, amount, _ in rows), Decimal(0))
        if kind == "control_sum_mismatch":
            total += Decimal(1).scaleb(-CURRENCIES[group_currency])
        declared = payments + 1 if kind == "nb_of_txs_mismatch" else payments
        group = [
            f"<MsgId>{msg_id}</MsgId>",
            f"<CreDtTm>{created}</CreDtTm>",
            f"<NbOfTxs>{declared}</NbOfTxs>",
        ]
        if with_total:
            group.append(f'<TtlIntrBkSttlmAmt Ccy="{group_currency}">{_amount_text(total, group_currency)}</TtlIntrBkSttlmAmt>')
            group.append(f"<IntrBkSttlmDt>{settlement_date}</IntrBkSttlmDt>")
        group.append(f"<SttlmInf><SttlmMtd>{r.choice(SETTLEMENT_METHODS)}</SttlmMtd></SttlmInf>")
        transactions = [
            self._transaction(index, n, currency, amount, uetr, instructing, instructed, None if with_total else settlement_date,
                              bad_bic=(kind == "schema_violation" and n == 0))
            for n, (currency, amount, uetr) in enumerate(rows)
        ]
        namespace = NAMESPACE
        if kind == "wrong_namespace":
            namespace = r.choice(("urn:example:payments:credit-transfer:v1", "http://www.example.com/pacs.008", "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.99"))
        document = (
            f'<Document xmlns="{namespace}"><FIToFICstmrCdtTrf><GrpHdr>{"".join(group)}</GrpHdr>'
            f'{"".join(transactions)}</FIToFICstmrCdtTrf></Document>'
        )
        if kind != "wrong_namespace" and r.random() < self._bah_share:
            header = (
                f'<AppHdr xmlns="{HEADER_NAMESPACE}"><Fr><FIId><FinInstnId><BICFI>{instructing[0]}</BICFI></FinInstnId></FIId></Fr>'
                f"<To><FIId><FinInstnId><BICFI>{instructed[0]}</BICFI></FinInstnId></FIId></To>"
                f"<BizMsgIdr>{msg_id}</BizMsgIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr><BizSvc>swift.cbprplus.03</BizSvc>"
                f"<CreDt>{created}</CreDt></AppHdr>"
            )
            text = f'<?xml version="1.0" encoding="UTF-8"?>\n<Envelope>{header}{document}</Envelope>\n'
        else:
            text = f'<?xml version="1.0" encoding="UTF-8"?>\n{document}\n'
        payload = text.encode("utf-8")
        if kind == "truncated":
            payload = payload[: int(len(payload) * (0.3 + 0.6 * r.random()))]
        uetrs = tuple(uetr for _, _, uetr in rows)
        if kind is None and payments == 1:
            self._single_valid.append((index, uetrs[0]))
            self._single_valid_at.append(at.timestamp())
        return Generated(index, payload, kind, uetrs, duplicate_of)

    def _transaction(self, index, n, currency, amount, uetr, instructing, instructed, settlement_date, bad_bic: bool) -> str:
        r = self._r
        debtor_agent = instructing
        creditor_agent = r.choice(BANKS)
        end_to_end = r.choice(("INV", "PO", "E2E", "REF", "PAY")) + f"-{r.randrange(10**9):09d}"
        parts = [
            "<CdtTrfTxInf><PmtId>",
            f"<InstrId>I{index:08d}-{n + 1}</InstrId>" if r.random() < 0.7 else "",
            f"<EndToEndId>{end_to_end}</EndToEndId>",
            f"<TxId>T{index:08d}-{n + 1}</TxId>" if r.random() < 0.5 else "",
            f"<UETR>{uetr}</UETR></PmtId>",
            "<PmtTpInf><SvcLvl><Cd>G001</Cd></SvcLvl></PmtTpInf>" if r.random() < 0.3 else "",
            f'<IntrBkSttlmAmt Ccy="{currency}">{_amount_text(amount, currency)}</IntrBkSttlmAmt>',
            f"<IntrBkSttlmDt>{settlement_date}</IntrBkSttlmDt>" if settlement_date else "",
            f'<InstdAmt Ccy="{currency}">{_amount_text(amount, currency)}</InstdAmt>' if r.random() < 0.4 else "",
            f"<ChrgBr>{r.choice(CHARGE_BEARERS)}</ChrgBr>",
            f"<InstgAgt><FinInstnId><BICFI>{'BANK-X1' if bad_bic else instructing[0]}</BICFI></FinInstnId></InstgAgt>",
            f"<InstdAgt><FinInstnId><BICFI>{instructed[0]}</BICFI></FinInstnId></InstdAgt>",
            self._party("Dbtr", debtor_agent[1]),
            self._account("DbtrAcct", debtor_agent[1]),
            f"<DbtrAgt><FinInstnId><BICFI>{debtor_agent[0]}</BICFI></FinInstnId></DbtrAgt>",
            f"<CdtrAgt><FinInstnId><BICFI>{creditor_agent[0]}</BICFI></FinInstnId></CdtrAgt>",
            self._party("Cdtr", creditor_agent[1]),
            self._account("CdtrAcct", creditor_agent[1]),
            f"<RmtInf><Ustrd>{escape(self._remittance(index))}</Ustrd></RmtInf>" if r.random() < 0.6 else "",
            "</CdtTrfTxInf>",
        ]
        return "".join(parts)

    def _party(self, tag: str, country: str) -> str:
        r = self._r
        name = r.choice(COMPANIES) if r.random() < 0.6 else f"{r.choice(PEOPLE_FIRST)} {r.choice(PEOPLE_LAST)}"
        address = ""
        if r.random() < 0.5:
            town, post_code = TOWNS[country]
            address = f"<PstlAdr><PstCd>{escape(post_code)}</PstCd><TwnNm>{escape(town)}</TwnNm><Ctry>{country}</Ctry></PstlAdr>"
        return f"<{tag}><Nm>{escape(name)}</Nm>{address}</{tag}>"

    def _account(self, tag: str, country: str) -> str:
        r = self._r
        if country in IBAN_BBAN:
            return f"<{tag}><Id><IBAN>{self._iban(country)}</IBAN></Id></{tag}>"
        return f"<{tag}><Id><Othr><Id>{r.randrange(10**11, 10**12)}</Id></Othr></Id></{tag}>"

    def _iban(self, country: str) -> str:
        r = self._r
        letters, digits = IBAN_BBAN[country]
        bban = "".join(r.choices(_LETTERS, k=letters)) + f"{r.getrandbits(80) % 10**digits:0{digits}d}"
        return country + iban_check_digits(country, bban) + bban

    def _remittance(self, index: int) -> str:
        r = self._r
        return r.choice(REMITTANCE).format(n=f"{r.randrange(10**6):06d}", month=r.choice(("January", "June", "October")))

    def _currency(self) -> str:
        return self._r.choices(self._currencies, self._currency_weights)[0]

    def _amount(self, currency: str) -> Decimal:
        r = self._r
        digits = CURRENCIES[currency]
        scale = 10 ** r.uniform(0.0, 6.5)  # 1 to ~3 million major units, log-uniform
        minor = max(1, int(scale * 10**digits))
        return Decimal(minor).scaleb(-digits)

    def _uetr(self) -> str:
        from sim.rng import uuid4_from

        return uuid4_from(self._r)


def _amount_text(amount: Decimal, currency: str) -> str:
    return f"{amount:.{CURRENCIES[currency]}f}"


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + '00' as digits) mod 97."""
    rearranged = bban + country + "00"
    number = int("".join(c if c.isdigit() else str(ord(c) - 55) for c in rearranged))
    return f"{98 - number % 97:02d}"
