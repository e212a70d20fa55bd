"""ISO 4217 currency codes: the one list of what Saku accepts as a currency, used by the
ISO 20022 intake's validation and by the reporting quality checks alike, so that what intake
lets in the nightly gate accepts.

The alphabetic codes of ISO 4217 (Debian's iso-codes 4.15 list, with the codes added since:
ZWG, Zimbabwe Gold, 2024; XCG, Caribbean guilder, 2025). Codes recently withdrawn (HRK, SLL,
ANG…) stay valid: history received before their withdrawal must still pass the checks. The
funds, precious metals and special codes are in it, and so is XTS, the code reserved for
testing, which Tazama's own sample messages use. XXX ("no currency is involved") is not: a
payment always moves some currency.
"""

from __future__ import annotations

_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS
    INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR
    PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW
    UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS
    XUA YER ZAR ZMW ZWG ZWL
"""
ISO_4217 = frozenset(_CODES.split())


def is_currency(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency code Saku accepts (upper case, exactly)."""
    return code in ISO_4217
