#!/bin/sh
# bench/gen-complaint.sh - write a synthetic complaint of a given size.
#
# Usage: bench/gen-complaint.sh SIZE_KB OUT.eml
#
# A real product complaint (English, model, serial, a description of the
# fault) grown to about SIZE_KB kilobytes the way real complaints grow:
#   up to 4 KB   more prose: the customer tells the whole story;
#   up to 64 KB  plus a paste of the inverter's event log in the text;
#   larger       plus an attached photo of the display (image/jpeg, base64),
#                in a multipart/mixed message.
# The output is deterministic (the same SIZE_KB gives the same bytes), so
# runs are comparable; each sent copy gets its own Message-ID from the load
# generators.  complaint-milter takes every size for a complete complaint
# (verdict accept): bench/run.sh checks that with complaint-check.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 SIZE_KB OUT.eml" >&2; exit 2; }
kb=$1
out=$2
case "$kb" in '' | *[!0-9]*) echo "$0: SIZE_KB must be a number" >&2; exit 2 ;; esac
target=$((kb * 1024))
export LC_ALL=C

prose() { # prose BYTES: story sentences, cycled, wrapped at 72 columns
	awk -v n="$1" 'BEGIN {
		s[0] = "The inverter was installed in March by Zonnewerk Installaties and worked well through the spring."
		s[1] = "Since the beginning of October it switches off several times a day, mostly between eleven and two when the sun is strongest."
		s[2] = "The display then shows Grid overvoltage and the green light turns red for a few minutes before it starts again."
		s[3] = "Our installer measured the grid voltage at the meter cupboard twice and says it stays below 245 volts."
		s[4] = "On sunny days we lose about a third of the yield compared with last year, which the app shows clearly."
		s[5] = "We have already restarted the inverter, switched the DC isolator off and on, and updated the firmware through the app."
		s[6] = "The neighbours have panels from another brand on the same street and do not have this problem."
		s[7] = "I would like to know whether this is a known fault of this model and whether a technician can come and look at it."
		s[8] = "If the unit is faulty we expect it to be replaced under warranty, as it is less than a year old."
		s[9] = "I have attached what the app shows, and I can send more details or photos if you need them."
		out = ""; line = ""; i = 0
		while (length(out) + length(line) < n) {
			w = s[i % 10]; i++
			if (length(line) + length(w) + 1 > 72) {
				out = out line "\n"; line = ""
				if (i % 4 == 0) out = out "\n"
			}
			line = (line == "" ? w : line " " w)
		}
		printf "%s%s\n", out, line
	}'
}

logpaste() { # logpaste BYTES: inverter event log lines
	awk -v n="$1" 'BEGIN {
		split("E2032 Grid-overvoltage|W0417 DC-insulation|E1014 Grid-frequency|I0001 Startup|I0002 Feed-in", ev, "|")
		out = ""; k = 0
		while (length(out) < n) {
			d = k % 28 + 1; h = 8 + k % 10; m = (k * 7) % 60
			printf_line = sprintf("2026-10-%02d %02d:%02d:%02d  %-26s PV1 %5.1fV %5.2fA  PV2 %5.1fV %5.2fA  AC %4dW\n",
				d, h, m, (k * 13) % 60, ev[k % 5 + 1], 360 + (k % 40), 7 + (k % 30) / 10,
				355 + (k % 37), 6.5 + (k % 25) / 10, 2500 + (k * 37) % 2200)
			out = out printf_line; k++
		}
		printf "%s", out
	}'
}

photo() { # photo BYTES: deterministic binary, base64, 76 columns
	awk -v n="$1" 'BEGIN { srand(42); for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }' |
		base64 -w 76
}

head_common() {
	cat <<EOF
From: Peter Janssen <p.janssen@example.org>
To: complaints@example.com
Subject: Complaint: inverter keeps switching off
Date: Tue, 17 Nov 2026 09:12:00 +0100
Message-ID: <synthetic-${kb}k@mail.example.org>
MIME-Version: 1.0
EOF
}

text_part() { # text_part BYTES_OF_PADDING
	pad=$1
	cat <<EOF
Dear Sir or Madam,

I want to file a complaint about our solar inverter.

Inverter model: SUN2000-5KTL-L1
Serial number: HV2150987654

EOF
	if [ "$pad" -le 3000 ]; then
		prose "$pad"
	else
		prose 2000
		printf '\nThis is what the event log in the app shows for the last weeks:\n\n'
		logpaste $((pad - 2080))
	fi
	cat <<EOF

Kind regards,
Peter Janssen
Lindelaan 12, 3581 AB Utrecht
EOF
}

base=520	# headers, greeting, fields and closing
if [ "$target" -le $((64 * 1024)) ]; then
	pad=$((target - base))
	[ "$pad" -lt 200 ] && pad=200
	{
		head_common
		printf 'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n'
		text_part "$pad"
	} >"$out"
else
	# a text of 8 KB and a photo making up the rest (base64 grows by 4/3)
	raw=$(((target - 8 * 1024 - 600) * 3 / 4))
	{
		head_common
		printf 'Content-Type: multipart/mixed; boundary="=_bench_boundary_1"\n\n'
		printf 'This is a multi-part message in MIME format.\n\n--=_bench_boundary_1\n'
		printf 'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n'
		text_part $((8 * 1024 - base))
		printf '\n--=_bench_boundary_1\n'
		printf 'Content-Type: image/jpeg; name="display.jpg"\n'
		printf 'Content-Disposition: attachment; filename="display.jpg"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		photo "$raw"
		printf '\n--=_bench_boundary_1--\n'
	} >"$out"
fi
