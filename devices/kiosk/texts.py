"""What the kiosk screen says, in Bahasa Indonesia (the default) and English.

Keys `reason.<code>` translate the decline codes Saku sends (core/wallet/authorisation.py)
and the agent's own (devices/kiosk/agent.py); `category.<id>` the usual category ids (a
school's own categories show the name Saku knows them by).
"""

from __future__ import annotations

from core.i18n import Catalogue

_ID = {
    "title": "Kantin",
    "page_title": "Kantin — Saku",
    "language": "Bahasa",
    "ready": "Siap.",
    "offline": "OFFLINE — menjual dalam batas",
    "offline_detail": (
        "Saku tidak terjangkau. Penjualan dicatat di kios ini dan dikirim saat tersambung lagi."
    ),
    "offline_no_caps": "OFFLINE — kios ini belum pernah tersambung ke Saku",
    "offline_no_caps_detail": (
        "Kios ini belum tahu kategori dan batas penjualan offline, jadi belum bisa menjual. "
        "Pakai uang tunai, atau sambungkan kios ke jaringan sekolah."
    ),
    "amount": "Jumlah (Rp)",
    "keypad": "Papan angka",
    "key_back": "Hapus satu angka",
    "key_clear": "Hapus semua",
    "category": "Kategori",
    "category_none": "Tanpa kategori",
    "categories_unknown": "Kategori belum diketahui: kios ini belum pernah tersambung ke Saku.",
    "category.meals": "Makanan",
    "category.snacks": "Jajanan",
    "category.drinks": "Minuman",
    "category.sugary-drinks": "Minuman manis",
    "method": "Cara bayar",
    "method.fingerprint": "Sidik jari",
    "method.qr_finger": "Kartu QR + jari",
    "method.pin": "PIN",
    "method.qr": "Kartu QR",
    "method.override": "Petugas",
    "hint.fingerprint": "Letakkan jari di sensor, lalu tekan Bayar.",
    "hint.qr_finger": (
        "Pindai kartu QR atau ketik nomor siswa, letakkan jari di sensor, lalu tekan Bayar."
    ),
    "hint.pin": "Ketik nomor siswa, lalu PIN-mu.",
    "hint.qr": "Pindai kartu QR, atau ketik nomor siswa.",
    "hint.override": "Petugas menjamin siswa ini dan menulis namanya.",
    "student": "Nomor siswa",
    "pin": "PIN",
    "staff": "Nama petugas",
    "pay": "Bayar",
    "paying": "Sedang diproses… letakkan jari di sensor bila diminta.",
    "approved": "Disetujui",
    "declined": "Ditolak",
    "thanks_name": "Terima kasih, {name}!",
    "thanks": "Terima kasih!",
    "paid": "Dibayar {amount}",
    "balance_after": "Sisa saldo {amount}",
    "offline_sale": "Dijual offline: dikirim ke Saku saat tersambung lagi.",
    "next_sale": "Penjualan berikutnya",
    "shortcuts": "Angka: jumlah · Enter: bayar · Esc: batal",
    "refused": "Halaman ini sudah kedaluwarsa. Muat ulang lalu coba lagi.",
    "reload": "Muat ulang",
    "reason.approved": "Terima kasih!",
    "reason.approved_offline": "Disetujui (offline)",
    "reason.insufficient_funds": "Uang di dompetmu tidak cukup.",
    "reason.daily_limit": "Batas harian tercapai.",
    "reason.weekly_limit": "Batas mingguan tercapai.",
    "reason.category_blocked": "{category} diblokir oleh orang tuamu.",
    "reason.category_limit": "Batas harian untuk {category} tercapai.",
    "reason.unknown_student": "Kami tidak mengenal siswa ini. Silakan ke kantor sekolah.",
    "reason.student_inactive": "Dompetmu tidak aktif. Silakan ke kantor sekolah.",
    "reason.other_school": "Kios ini milik sekolah lain.",
    "reason.unknown_category": "Kategori barang ini belum diatur.",
    "reason.monitoring_hold": "Pembayaran ini perlu diperiksa. Silakan ke kantor sekolah.",
    "reason.kiosk_inactive": "Kios ini dimatikan. Silakan ke kantor sekolah.",
    "reason.not_recognised": "Sidik jari tidak dikenali. Coba lagi atau pakai PIN.",
    "reason.no_match": "Sidik jari tidak cocok. Silakan pakai PIN.",
    "reason.sensor": "Sensor sidik jari bermasalah. Coba lagi, atau pakai PIN atau kartu QR.",
    "reason.offline_limit": "Batas offline tercapai. Silakan bayar saat kios tersambung lagi.",
    "reason.offline_never_configured": (
        "Kios ini belum pernah tersambung ke Saku, jadi belum bisa menjual offline."
    ),
    "reason.no_fingerprint": "Sidik jarimu belum didaftarkan. Silakan pakai PIN.",
    "reason.override_needs_staff": "Persetujuan petugas perlu nama petugas.",
    "reason.wrong_pin": "PIN salah. Silakan coba lagi.",
    "reason.pin_locked": "Terlalu banyak PIN salah. Silakan ke kantor sekolah.",
    "reason.no_pin": "Kamu belum punya PIN. Silakan ke kantor sekolah.",
    "reason.amount_missing": "Ketik jumlahnya dulu.",
    "reason.amount_too_large": "Jumlahnya terlalu besar: paling banyak Rp 10.000.000.",
    "reason.student_missing": "Ketik nomor siswa, atau pindai kartu QR.",
    "reason.student_invalid": "Itu bukan nomor siswa: hanya huruf, angka, - dan _.",
    "reason.pin_missing": "Ketik PIN-mu.",
    "reason.pin_invalid": "PIN terdiri dari 4 sampai 8 angka.",
    "reason.staff_invalid": "Nama petugas paling panjang 64 huruf.",
}

_EN = {
    "title": "Canteen",
    "page_title": "Canteen — Saku",
    "language": "Language",
    "ready": "Ready.",
    "offline": "OFFLINE — selling within caps",
    "offline_detail": (
        "Saku is unreachable. Sales are kept on this kiosk and sent when it is back online."
    ),
    "offline_no_caps": "OFFLINE — this kiosk has never reached Saku",
    "offline_no_caps_detail": (
        "It does not know the categories or the offline caps yet, so it cannot sell. Take "
        "cash, or connect the kiosk to the school's network."
    ),
    "amount": "Amount (Rp)",
    "keypad": "Keypad",
    "key_back": "Delete one digit",
    "key_clear": "Clear",
    "category": "Category",
    "category_none": "No category",
    "categories_unknown": "Categories not known yet: this kiosk has never reached Saku.",
    "category.meals": "Meals",
    "category.snacks": "Snacks",
    "category.drinks": "Drinks",
    "category.sugary-drinks": "Sugary drinks",
    "method": "How to pay",
    "method.fingerprint": "Fingerprint",
    "method.qr_finger": "QR card + finger",
    "method.pin": "PIN",
    "method.qr": "QR card",
    "method.override": "Staff override",
    "hint.fingerprint": "Place your finger on the sensor, then press Pay.",
    "hint.qr_finger": (
        "Scan the QR card or type the student number, place your finger on the sensor, "
        "then press Pay."
    ),
    "hint.pin": "Type the student number, then your PIN.",
    "hint.qr": "Scan the QR card, or type the student number.",
    "hint.override": "A staff member vouches for the student and types their own name.",
    "student": "Student number",
    "pin": "PIN",
    "staff": "Staff member's name",
    "pay": "Pay",
    "paying": "Working… place your finger on the sensor when asked.",
    "approved": "Approved",
    "declined": "Declined",
    "thanks_name": "Thank you, {name}!",
    "thanks": "Thank you!",
    "paid": "Paid {amount}",
    "balance_after": "Balance left {amount}",
    "offline_sale": "Sold offline: sent to Saku when the kiosk is back online.",
    "next_sale": "Next sale",
    "shortcuts": "Digits: amount · Enter: pay · Esc: cancel",
    "refused": "This page has expired. Reload it and try again.",
    "reload": "Reload",
    "reason.approved": "Thank you!",
    "reason.approved_offline": "Approved (offline)",
    "reason.insufficient_funds": "Not enough money in your wallet.",
    "reason.daily_limit": "Daily limit reached.",
    "reason.weekly_limit": "Weekly limit reached.",
    "reason.category_blocked": "{category} is blocked by your parent.",
    "reason.category_limit": "Daily limit for {category} reached.",
    "reason.unknown_student": "We don't know this student. Please see the office.",
    "reason.student_inactive": "Your wallet is not active. Please see the school office.",
    "reason.other_school": "This kiosk is at another school.",
    "reason.unknown_category": "This item's category is not set up.",
    "reason.monitoring_hold": "This payment needs a check. Please see the office.",
    "reason.kiosk_inactive": "This kiosk is switched off. Please see the office.",
    "reason.not_recognised": "Fingerprint not recognised. Try again or use your PIN.",
    "reason.no_match": "Fingerprint does not match. Please use your PIN.",
    "reason.sensor": "The fingerprint sensor has a problem. Try again, or use the PIN or QR card.",
    "reason.offline_limit": "Offline limit reached. Please pay when the kiosk is back online.",
    "reason.offline_never_configured": (
        "This kiosk has never reached Saku, so it cannot sell offline yet."
    ),
    "reason.no_fingerprint": "No fingerprint is enrolled for you. Please use your PIN.",
    "reason.override_needs_staff": "A staff override needs the staff member's name.",
    "reason.wrong_pin": "Wrong PIN. Please try again.",
    "reason.pin_locked": "Too many wrong PINs. Please see the school office.",
    "reason.no_pin": "No PIN is set for you. Please see the school office.",
    "reason.amount_missing": "Type the amount first.",
    "reason.amount_too_large": "That amount is too large: at most Rp 10,000,000.",
    "reason.student_missing": "Type the student's number, or scan the QR card.",
    "reason.student_invalid": "That is not a student number: letters, digits, - and _ only.",
    "reason.pin_missing": "Type your PIN.",
    "reason.pin_invalid": "A PIN is 4 to 8 digits.",
    "reason.staff_invalid": "A staff member's name is at most 64 characters.",
}

TEXTS = Catalogue({"id": _ID, "en": _EN})
