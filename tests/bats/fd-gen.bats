#!/usr/bin/env bats
# fd-gen: exact counts, layout, determinism, time order, typologies, formats, options, errors,
# atomic output, the man page's examples and the bundled sample.
# Every property of the data is checked here with awk or jq, never with the generator's code.

load common
bats_require_minimum_version 1.5.0

HEADER='txn_id,ts,amount,currency,sender_id,recipient_id,merchant_id,merchant_category,channel,device_id,ip,lat,lon,country,city,label,fraud_type'
TYPES='account_takeover amount_spike card_testing mule_fan_in_out sanctioned_country structuring transfer_cycle velocity_burst'

setup_file() {
	export LC_ALL=C TZ=UTC
	# shared inputs: the defaults, and a larger file with many patterns of each typology
	"$FD_BIN/fd-gen" > "$BATS_FILE_TMPDIR/default.csv"
	"$FD_BIN/fd-gen" --seed 5 --rows 60000 --fraud-rate 0.05 > "$BATS_FILE_TMPDIR/big.csv"
}

setup() {
	common_setup
	D="$BATS_FILE_TMPDIR/default.csv"
	B="$BATS_FILE_TMPDIR/big.csv"
}

# rows of one typology of $B, as CSV without the header
typ() { awk -F, -v t="$1" 'NR > 1 && $17 == t' "$B"; }

# Seconds since 2026-01-01 of an RFC 3339 timestamp in 2026 (awk; the files here are 2026).
SECS='function secs(ts,   m) { split("0 31 59 90 120 151 181 212 243 273 304 334", m, " ")
	return ((m[substr(ts, 6, 2) + 0] + substr(ts, 9, 2) - 1) * 24 + substr(ts, 12, 2)) * 3600 + substr(ts, 15, 2) * 60 + substr(ts, 18, 6) }'

# bursts TYPE SPLIT MIN: group each sender's rows of TYPE in $B, starting a new group when
# more than SPLIT seconds have passed since the group's first row (SPLIT < 0: since the
# previous row); print "GROUPS BAD" where BAD counts groups of fewer than MIN rows.
bursts() {
	awk -F, -v t="$1" 'NR > 1 && $17 == t { print $5, $2 }' "$B" | sort |
		awk -v split_="$2" -v min="$3" "$SECS"'
		{ t = secs($2) }
		$1 != who || (split_ >= 0 && t - first > split_) || (split_ < 0 && t - last > -split_) {
			if (n && n < min) bad++; n = 0; first = t; groups++ }
		{ n++; who = $1; last = t }
		END { if (n < min) bad++; print groups + 0, bad + 0 }'
}

# ---- layout and counts ----------------------------------------------------------------------

@test "defaults: the header and exactly 10000 rows" {
	run head -n 1 "$D"
	assert_output "$HEADER"
	run awk 'END { print NR - 1 }' "$D"
	assert_output 10000
}

@test "--rows gives exactly that many rows, however few" {
	for n in 0 1 2 37 1234; do
		run --separate-stderr fd-gen --rows "$n"
		assert_success
		[ -z "$stderr" ]
		[ "$(printf '%s\n' "$output" | wc -l)" -eq $((n + 1)) ] || { echo "--rows $n"; false; }
	done
}

@test "every row has 17 fields and well-formed values" {
	run awk -F, '
		NR == 1 { next }
		NF != 17 { print NR ": " NF " fields"; bad++; next }
		$1 != sprintf("T%010d", NR - 1) { print NR ": txn_id " $1; bad++ }
		$2 !~ /^2026-0[1-3]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9][0-9][0-9]Z$/ { print NR ": ts " $2; bad++ }
		$3 !~ /^[0-9]+\.[0-9][0-9]$/ || $3 + 0 <= 0 { print NR ": amount " $3; bad++ }
		$4 != "USD" { print NR ": currency " $4; bad++ }
		$5 !~ /^[CE][0-9]+$/ || ($6 != "" && $6 !~ /^[CE][0-9]+$/) { print NR ": accounts"; bad++ }
		$7 != "" && ($7 !~ /^M[0-9]+$/ || $8 == "") { print NR ": merchant"; bad++ }
		$9 !~ /^(card|online|mobile|atm|transfer)$/ { print NR ": channel " $9; bad++ }
		$9 == "transfer" && ($6 == "" || $7 != "") { print NR ": transfer without recipient or with merchant"; bad++ }
		($9 == "card" || $9 == "online") && $7 == "" { print NR ": payment without merchant"; bad++ }
		$10 != "" && $10 !~ /^D[0-9]+$/ { print NR ": device " $10; bad++ }
		$11 != "" && $11 !~ /^([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9a-f:]+)$/ { print NR ": ip " $11; bad++ }
		$12 != "" && ($12 + 0 < -90 || $12 + 0 > 90 || $13 + 0 < -180 || $13 + 0 > 180 || $14 !~ /^[A-Z][A-Z]$/ || $15 == "") { print NR ": geo"; bad++ }
		$16 != "0" && $16 != "1" { print NR ": label " $16; bad++ }
		($16 == "1") != ($17 != "") { print NR ": label and fraud_type disagree"; bad++ }
		END { exit bad > 0 }' "$D"
	assert_success
}

@test "IPv4 addresses are public dotted quads" {
	run awk -F, 'NR > 1 && $11 ~ /\./ {
		n = split($11, o, ".")
		if (n != 4 || o[1] == 0 || o[1] == 10 || o[1] == 127 || o[1] >= 224 || (o[1] == 192 && o[2] == 168) || (o[1] == 172 && o[2] >= 16 && o[2] < 32)) { print $11; bad++ }
		for (i = 1; i <= 4; i++) if (o[i] > 255) { print $11; bad++ }
	} END { exit bad > 0 }' "$B"
	assert_success
}

@test "the fraud share is exactly the rate asked for" {
	run awk -F, 'NR > 1 { f += $16 } END { print f }' "$D"
	assert_output 100
	run awk -F, 'NR > 1 { f += $16 } END { print f }' "$B"
	assert_output 3000
	run sh -c 'fd-gen --rows 777 --fraud-rate 0 | awk -F, "NR > 1 { f += \$16 } END { print f + 0 }"'
	assert_output 0
	run sh -c 'fd-gen --rows 50 --fraud-rate 1 | awk -F, "NR > 1 { f += \$16 } END { print f }"'
	assert_output 50
}

# ---- determinism and order ------------------------------------------------------------------

@test "the same seed and options give identical bytes; another seed differs" {
	fd-gen > a.csv
	cmp a.csv "$D"
	fd-gen --seed 1 --rows 10000 --format csv > b.csv
	cmp b.csv "$D"
	fd-gen --seed 2 > c.csv
	run cmp -s c.csv "$D"
	assert_failure
}

@test "the population depends on seed, customers and merchants only, not on --rows" {
	fd-gen --customers 50 --rows 2000 > small.csv
	fd-gen --customers 50 --rows 8000 > large.csv
	# each merchant keeps its category and each customer its devices across both files
	run awk -F, 'FNR > 1 && $7 != "" { k = $7; v = $8 "|" $14 "|" $15 }
		FNR > 1 && $7 != "" && $9 == "card" { if ((k in m) && m[k] != v) { print k; bad++ } m[k] = v }
		FNR > 1 && $10 != "" && $16 == 0 { if (($10 in dev) && dev[$10] != $5) { print $10; bad++ } dev[$10] = $5 }
		END { exit bad > 0 }' small.csv large.csv
	assert_success
	# ... and no customer beyond the 50 appears
	run awk -F, 'NR > 1 && $5 ~ /^C/ && substr($5, 2) + 0 > 50' large.csv
	assert_output ""
}

@test "rows are in time order, within the requested days" {
	run awk -F, 'NR > 2 && $2 < prev { print NR; bad++ } { prev = $2 } END { exit bad > 0 }' "$B"
	assert_success
	fd-gen --start 2024-02-28 --days 3 --rows 3000 --fraud-rate 0.1 > leap.csv
	run sh -c "awk -F, 'NR > 1 { print substr(\$2, 1, 10) }' leap.csv | sort -u"
	assert_output - <<'OUT'
2024-02-28
2024-02-29
2024-03-01
OUT
	run awk -F, 'NR > 2 && $2 < prev { bad++ } { prev = $2 } END { exit bad > 0 }' leap.csv
	assert_success
}

@test "the daily rhythm: little at night, most in the day and evening (local time)" {
	# New York customers (UTC-5): 01:00-05:00 local is 06:00-10:00 UTC
	run awk -F, 'NR > 1 && $16 == 0 && $15 == "New York" { h = substr($2, 12, 2) + 0; n++; if (h >= 6 && h < 10) night++ }
		END { exit !(n > 1000 && night / n < 0.05) }' "$B"
	assert_success
}

@test "travel and big purchases happen in legitimate rows too" {
	# some legitimate card payments far from the customer's usual city
	run awk -F, 'NR > 1 && $16 == 0 && $9 == "card" { c[$5 SUBSEP $15]++; tot[$5]++ }
		END { for (k in c) { split(k, p, SUBSEP); if (c[k] > best[p[1]]) best[p[1]] = c[k] }
		      for (s in tot) if (tot[s] > best[s]) away++; print (away > 10) }' "$B"
	assert_output 1
	run awk -F, 'NR > 1 && $16 == 0 && $3 + 0 >= 2000 && $7 != "" { n++ } END { print (n > 10) }' "$B"
	assert_output 1
}

# ---- typologies -----------------------------------------------------------------------------

@test "every typology appears, labelled 1, in a default 10k file" {
	run sh -c "awk -F, 'NR > 1 && \$16 == 1 { print \$17 }' '$D' | sort -u | tr '\n' ' '"
	assert_output "$TYPES "
	run awk -F, 'NR > 1 && $17 != "" && $16 != 1' "$D"
	assert_output ""
}

@test "every typology appears whatever the seed" {
	for s in 2 3 11 99; do
		n=$(fd-gen --seed "$s" | awk -F, 'NR > 1 && $16 == 1 { t[$17] } END { for (k in t) n++; print n }')
		[ "$n" -eq 8 ] || { echo "seed $s: $n typologies"; false; }
	done
}

@test "card_testing: bursts of at least 5 tiny online payments within minutes" {
	run sh -c "awk -F, 'NR > 1 && \$17 == \"card_testing\" && (\$3 < 0.50 || \$3 > 2.00 || \$9 != \"online\")' '$B'"
	assert_output ""
	[ "$(typ card_testing | wc -l)" -ge 100 ]
	# split each card's rows where more than 90 s pass; every burst has 5 or more
	run bursts card_testing -90 5
	assert_success
	read -r groups bad <<<"$output"
	[ "$groups" -ge 10 ] && [ "$bad" -eq 0 ] || { echo "$output"; false; }
}

@test "card_testing and account_takeover come from devices the customer never used" {
	run awk -F, 'NR > 1 && $16 == 0 && $10 != "" { own[$5 SUBSEP $10] = 1 }
		NR > 1 && ($17 == "card_testing" || $17 == "account_takeover") {
			if ($10 == "" || ($5 SUBSEP $10) in own) { print NR; bad++ } n++ }
		END { exit bad > 0 || n < 100 }' "$B"
	assert_success
}

@test "account_takeover: far from the customer's usual place, then large amounts" {
	run awk -F, '
		function rad(x) { return x * 3.141592653589793 / 180 }
		function km(a, b, c, d,   h) { h = sin(rad(c - a) / 2) ^ 2 + cos(rad(a)) * cos(rad(c)) * sin(rad(d - b) / 2) ^ 2; return 2 * 6371 * atan2(sqrt(h), sqrt(1 - h)) }
		NR > 1 && $16 == 0 && $9 == "online" { k = $5 SUBSEP sprintf("%.0f,%.0f", $12, $13); c[k]++; if (c[k] > best[$5]) { best[$5] = c[k]; la[$5] = $12; lo[$5] = $13 } }
		NR > 1 && $17 == "account_takeover" { n++; s[n] = $5; a[n] = $12; b[n] = $13; amt[n] = $3 }
		END {
			for (i = 1; i <= n; i++) {
				if (!(s[i] in la)) continue
				checked++
				if (km(la[s[i]], lo[s[i]], a[i], b[i]) < 1000) { print "near home: " s[i]; bad++ }
				if (amt[i] + 0 >= 1000) large++
			}
			print (checked > 50), (large > n / 2), bad + 0
		}' "$B"
	assert_output "1 1 0"
}

@test "velocity_burst: 6 or more card payments within 40 minutes" {
	run awk -F, 'NR > 1 && $17 == "velocity_burst" && $9 != "card"' "$B"
	assert_output ""
	run bursts velocity_burst 2400 6
	assert_success
	read -r groups bad <<<"$output"
	[ "$groups" -ge 10 ] && [ "$bad" -eq 0 ] || { echo "$output"; false; }
}

@test "amount_spike: many times the customer's median legitimate amount" {
	awk -F, 'NR > 1 && $16 == 0 && $7 != "" { print $5, $3 }' "$B" | sort -k1,1 -k2,2n |
		awk '$1 != who { if (n) print who, v[int((n + 1) / 2)]; n = 0; who = $1 }
		     { v[++n] = $2 }
		     END { print who, v[int((n + 1) / 2)] }' > medians
	run sh -c "awk -F, 'NR > 1 && \$17 == \"amount_spike\" { print \$5, \$3 }' '$B' | sort -k1,1 | join - medians"
	assert_success
	run awk '{ n++; if ($2 < 8 * $3) { print; bad++ } } END { print (n >= 20), bad + 0 }' <<<"$output"
	assert_output "1 0"
}

@test "structuring: 3 or more transfers within 24 hours, each within 10% below 10,000" {
	run sh -c "awk -F, 'NR > 1 && \$17 == \"structuring\" && (\$3 < 9000 || \$3 >= 10000 || \$9 != \"transfer\")' '$B'"
	assert_output ""
	run bursts structuring 86400 3
	assert_success
	read -r groups bad <<<"$output"
	[ "$groups" -ge 10 ] && [ "$bad" -eq 0 ] || { echo "$output"; false; }
}

@test "sanctioned_country: KP, IR, SY or CU, and only in fraud rows" {
	run awk -F, 'NR > 1 && $17 == "sanctioned_country" && $14 !~ /^(KP|IR|SY|CU)$/' "$B"
	assert_output ""
	[ "$(typ sanctioned_country | wc -l)" -ge 20 ]
	run awk -F, 'NR > 1 && $16 == 0 && $14 ~ /^(KP|IR|SY|CU)$/' "$B"
	assert_output ""
}

@test "mule_fan_in_out: many senders into one account, which then pays several out" {
	# Every labelled row is either a payment into a mule (its recipient pays out 2 or more
	# labelled transfers within the next 4 days) or a payment out of one (its sender was
	# paid by 3 or more different senders within the 4 days before, more than it sends).
	run awk -F, "$SECS"'
		NR > 1 && $17 == "mule_fan_in_out" { n++; s[n] = $5; r[n] = $6; t[n] = secs($2); a[n] = $3 + 0
			if ($9 != "transfer") bad++ }
		END {
			for (i = 1; i <= n; i++) {
				split("", seen); k = 0; inflow = 0
				for (j = 1; j < i; j++)
					if (r[j] == s[i] && t[i] - t[j] <= 345600) {
						if (!(s[j] in seen)) { seen[s[j]]; k++ }
						inflow += a[j]
					}
				out_ = k >= 3 && a[i] < inflow
				m = 0
				for (j = i + 1; j <= n; j++)
					if (s[j] == r[i] && t[j] - t[i] <= 345600) m++
				if (!out_ && m < 2) { print "row " i ": " s[i] " -> " r[i]; bad++ }
				if (out_) mule[s[i]]
			}
			for (x in mule) mules++
			print (mules >= 10), bad + 0
		}' "$B"
	assert_output "1 0"
}

@test "transfer_cycle: each loop returns to its start in time order, amounts slightly decreasing" {
	# Walk the cycle rows in file (time) order.  An account that sends without holding cycle
	# money starts a loop; each hop must pass on a little less than it received; the loop is
	# closed when the money reaches its start again.
	run awk -F, '
		NR > 1 && $17 == "transfer_cycle" {
			s = $5; r = $6; a = $3 + 0; rows++
			if ($9 != "transfer") bad++
			if (s in holding) {
				if (!(a < holding[s] && a >= 0.95 * holding[s])) { print "hop " NR; bad++ }
				delete holding[s]
			} else if (s in start) { print "start sends twice " NR; bad++ }
			else { start[s] = a; loops++ }
			if (r in start) { if (!(a < start[r])) { print "no decrease " NR; bad++ } delete start[r]; closed++ }
			else if (r in holding) { print "two loops through " r; bad++ }
			else holding[r] = a
		}
		END {
			for (k in start) { print "open loop at " k; bad++ }
			for (k in holding) { print "money left at " k; bad++ }
			print (loops >= 20), (loops == closed), (rows >= 3 * loops), bad + 0
		}' "$B"
	assert_output "1 1 1 0"
}

# ---- formats and currencies -----------------------------------------------------------------

@test "NDJSON: every line parses, same keys in order, same values as the CSV" {
	fd-gen --rows 3000 --fraud-rate 0.05 --format ndjson > t.ndjson
	fd-gen --rows 3000 --fraud-rate 0.05 > t.csv
	run jq -e -s 'length == 3000' t.ndjson
	assert_success
	run sh -c 'jq -c "keys_unsorted" t.ndjson | sort -u'
	assert_output '["txn_id","ts","amount","currency","sender_id","recipient_id","merchant_id","merchant_category","channel","device_id","ip","lat","lon","country","city","label","fraud_type"]'
	# the text fields as they are, numbers compared as numbers
	jq -r '[.txn_id, .ts, .currency, .sender_id, .recipient_id, .merchant_id, .merchant_category,
		.channel, .device_id, .ip, .country, .city, .fraud_type] | map(. // "") | join(",")' t.ndjson > j.txt
	awk -F, -v OFS=, 'NR > 1 { print $1, $2, $4, $5, $6, $7, $8, $9, $10, $11, $14, $15, $17 }' t.csv > c.txt
	cmp j.txt c.txt
	jq -r '[.amount, .lat // "", .lon // "", .label] | map(tostring) | join(",")' t.ndjson > jn.txt
	run awk -F, 'NR == FNR { j[FNR] = $0; next } FNR > 1 { split(j[FNR - 1], v, ",")
		if (v[1] + 0 != $3 + 0 || v[2] != "" && v[2] + 0 != $12 + 0 || v[4] != $16) { print FNR; bad++ } }
		END { exit bad > 0 }' jn.txt t.csv
	assert_success
	# absent values are null, not empty strings
	run jq -e -s 'map(select(.channel == "atm")) | length > 0 and all(.merchant_id == null and .device_id == null and .ip == null and .fraud_type == null)' t.ndjson
	assert_success
	run jq -e -s 'map(select(.label == 1)) | all(.fraud_type | type == "string")' t.ndjson
	assert_success
}

@test "--currency sets the code and the decimals" {
	run sh -c 'fd-gen --rows 500 --currency EUR | awk -F, "NR > 1 && (\$4 != \"EUR\" || \$3 !~ /^[0-9]+\\.[0-9][0-9]\$/)"'
	assert_success
	assert_output ""
	run sh -c 'fd-gen --rows 500 --currency JPY | awk -F, "NR > 1 && (\$4 != \"JPY\" || \$3 !~ /^[0-9]+\$/)"'
	assert_output ""
	run sh -c 'fd-gen --rows 500 --currency BHD | awk -F, "NR > 1 && (\$4 != \"BHD\" || \$3 !~ /^[0-9]+\\.[0-9][0-9][0-9]\$/)"'
	assert_output ""
}

@test "--start, --days, --customers and --merchants are honoured" {
	fd-gen --rows 4000 --start 2025-06-01 --days 10 --customers 7 --merchants 3 > o.csv
	run awk -F, 'NR > 1 { print substr($2, 1, 10) }' o.csv
	assert_line --index 0 --regexp '^2025-06-01$'
	run sh -c "awk -F, 'NR > 1 { print substr(\$2, 1, 10) }' o.csv | sort -u | tail -n 1"
	assert_output 2025-06-10
	run sh -c "awk -F, 'NR > 1 && \$5 ~ /^C/ { print \$5 }' o.csv | sort -u | wc -l"
	assert_output 7
	run sh -c "awk -F, 'NR > 1 && \$7 != \"\" { print \$7 }' o.csv | sort -u | tr '\n' ' '"
	assert_output "M000001 M000002 M000003 "
}

# ---- options and errors ---------------------------------------------------------------------

@test "--help and --version" {
	run --separate-stderr fd-gen --help
	assert_success
	assert_line --index 0 "usage: fd-gen [options]"
	assert_output --partial "--fraud-rate R"
	assert_output --partial "-o, --output FILE"
	[ -z "$stderr" ]
	run fd-gen -h
	assert_success
	assert_line --index 0 "usage: fd-gen [options]"
	run fd-gen --version
	assert_success
	assert_output "fd-gen $(sed -n 's/^VERSION *:= *//p' "$FD_ROOT/Makefile")"
}

@test "bad options exit 2 with a message naming the option, and write nothing" {
	check() {  # expected message, then the arguments
		local msg=$1
		shift
		run --separate-stderr fd-gen "$@"
		[ "$status" -eq 2 ] || { echo "$*: exit $status"; return 1; }
		[ -z "$output" ] || { echo "$*: wrote to stdout"; return 1; }
		[[ $stderr == "fd-gen: $msg"* ]] || { echo "$*: $stderr"; return 1; }
		[[ $stderr == *"usage: fd-gen "* ]] || { echo "$*: no usage"; return 1; }
	}
	check "--rows needs a whole number from 0 to 2000000000, not '-1'" --rows -1
	check "--rows needs a whole number from 0 to 2000000000, not '12x'" --rows 12x
	check "--seed needs a whole number" --seed ''
	check "--customers needs a whole number from 1 to 5000000, not '0'" --customers 0
	check "--merchants needs a whole number from 1 to 1000000, not 'many'" --merchants many
	check "--days needs a whole number from 1 to 36600, not '0'" --days 0
	check "--fraud-rate needs a number from 0 to 1, not '1.5'" --fraud-rate 1.5
	check "--fraud-rate needs a number from 0 to 1, not 'nan'" --fraud-rate nan
	check "--start needs a date YYYY-MM-DD, not '2026-02-30'" --start 2026-02-30
	check "--start needs a date YYYY-MM-DD, not '2026-1-1'" --start 2026-1-1
	check "--start needs a date YYYY-MM-DD, not '2026-01-01T00:00:00Z'" --start 2026-01-01T00:00:00Z
	check "--currency needs an ISO 4217 code such as USD, not 'XYZ'" --currency XYZ
	check "--currency needs an ISO 4217 code such as USD, not 'usd'" --currency usd
	check "--format must be csv or ndjson, not 'xml'" --format xml
	check "--output needs a file name" -o ''
	check "unexpected argument 'extra'" extra
	check "unrecognized option '--bogus'" --bogus
	check "option '--rows' requires an argument" --rows
	check "the dates must fall within the years 0 to 9999" --start 9999-12-01 --days 100
}

@test "the options of the tools that use a store are refused, not ignored" {
	for o in "--store x.db" "--actor someone" "--metrics m.prom"; do
		run --separate-stderr fd-gen --rows 3 $o -q
		[ "$status" -eq 2 ] || { echo "$o: exit $status"; false; }
		[ -z "$output" ] || { echo "$o wrote to stdout"; false; }
		assert_equal "${stderr_lines[0]}" "fd-gen: unrecognized option '${o%% *}'"
		assert_equal "${stderr_lines[1]}" "usage: fd-gen [options]"
		assert_equal "${stderr_lines[2]}" "Try 'fd-gen --help' for the options."
	done
	[ ! -e x.db ] && [ ! -e m.prom ]
	# what it does take still works
	run fd-gen --rows 3 -q --no-progress
	assert_success
	[ "${#lines[@]}" -eq 4 ]
}

# ---- output ---------------------------------------------------------------------------------

@test "-o writes the same bytes as standard output, and nothing else" {
	mkdir o && cd o
	run --separate-stderr fd-gen --rows 2500 -o out.csv
	assert_success
	assert_output ""
	[ -z "$stderr" ]
	fd-gen --rows 2500 > ../std.csv
	cmp out.csv ../std.csv
	run ls -A
	assert_output out.csv
	fd-gen --rows 10 --output out.ndjson --format ndjson
	[ "$(wc -l < out.ndjson)" -eq 10 ]
}

@test "-o replaces a file only when complete: a killed run leaves the old one" {
	echo old > out.csv
	# killed long before 50 million rows are written
	run timeout -s KILL 0.5 fd-gen --rows 50000000 -o out.csv
	[ "$status" -eq 137 ]
	run cat out.csv
	assert_output old
	fd-gen --rows 5 -o out.csv
	[ "$(wc -l < out.csv)" -eq 6 ]
}

@test "I/O errors exit 4 with a message" {
	run --separate-stderr fd-gen --rows 10 -o /nonexistent/dir/out.csv
	assert_failure 4
	[[ $stderr == "fd-gen: "*"/nonexistent/dir/out.csv"* ]] || { echo "$stderr"; false; }
	[ ! -e /nonexistent/dir/out.csv ]
	run --separate-stderr sh -c 'fd-gen --rows 100000 > /dev/full'
	assert_failure 4
	[[ $stderr == "fd-gen: "*"No space left on device"* ]] || { echo "$stderr"; false; }
}

# ---- the man page and the sample ------------------------------------------------------------

@test "the man page's examples work as shown" {
	man="$FD_ROOT/man/fd-gen.1"
	ex() { grep -qF -- "$1" "$man" || { echo "not in the man page: $1"; return 1; }; }
	ex "fd-gen > tx.csv"
	ex "awk -F, 'NR > 1 && \$16 == 1 { n[\$17]++ } END { for (t in n) print t, n[t] }' tx.csv"
	fd-gen > tx.csv
	run sh -c "awk -F, 'NR > 1 && \$16 == 1 { n[\$17]++ } END { for (t in n) print t, n[t] }' tx.csv | wc -l"
	assert_output 8
	ex "fd-gen --rows 1000000 --customers 10000 -o bench1m.csv"
	fd-gen --rows 1000000 --customers 10000 -o bench1m.csv
	[ "$(wc -l < bench1m.csv)" -eq 1000001 ]
	rm bench1m.csv
	ex "fd-gen --seed 7 --start 2025-01-01 --days 365 --currency EUR \\e"
	ex "    --fraud-rate 0.03 --format ndjson -o tx.ndjson"
	fd-gen --seed 7 --start 2025-01-01 --days 365 --currency EUR \
		--fraud-rate 0.03 --format ndjson -o tx.ndjson
	run jq -e -s 'length == 10000 and (map(.label) | add) == 300 and .[-1].ts[0:4] == "2025"' tx.ndjson
	assert_success
	ex "fd-gen --rows 100000 | fd-ingest -"
	if [ -x "$FD_BIN/fd-ingest" ]; then
		fd-gen --rows 100000 | fd-ingest -q -
		run q "SELECT count(*), sum(label) FROM transactions"
		assert_output "100000|1000"
	fi
}

@test "testdata/sample.csv is what the documented command makes, with every typology" {
	grep -qF 'fd-gen --seed 42 --rows 2000 --fraud-rate 0.05 -o testdata/sample.csv' "$FD_ROOT/man/fd-gen.1"
	grep -qF 'fd-gen --seed 42 --rows 2000 --fraud-rate 0.05 -o testdata/sample.csv' "$TD/README.md"
	fd-gen --seed 42 --rows 2000 --fraud-rate 0.05 -o sample.csv
	cmp sample.csv "$TD/sample.csv"
	run sh -c "awk -F, 'NR > 1 && \$16 == 1 { print \$17 }' '$TD/sample.csv' | sort -u | tr '\n' ' '"
	assert_output "$TYPES "
	# the counts in testdata/README.md
	for t in $TYPES; do
		n=$(awk -F, -v t="$t" 'NR > 1 && $17 == t' "$TD/sample.csv" | wc -l)
		grep -qE "^\| $t +\| +$n \|$" "$TD/README.md" || { echo "README count of $t is not $n"; false; }
	done
}

@test "--id-prefix and --start-id: consecutive days with ids that continue" {
	run fd-gen -q --rows 3 --days 1
	assert_success
	run cut -d, -f1 <<<"$output"
	assert_output - <<'OUT'
txn_id
T0000000001
T0000000002
T0000000003
OUT
	fd-gen -q --rows 4 --days 1 --start 2026-03-01 --id-prefix D- --start-id 999999998 -o a.csv
	run cut -d, -f1 a.csv
	assert_output - <<'OUT'
txn_id
D-0999999998
D-0999999999
D-1000000000
D-1000000001
OUT
	# the next day continues where the first stopped, and both ingest into one store
	fd-gen -q --rows 4 --days 1 --start 2026-03-02 --id-prefix D- --start-id 1000000002 --seed 2 -o b.csv
	run fd-ingest -q a.csv b.csv
	assert_success
	run sqlite3 "$FD_STORE" "SELECT count(DISTINCT txn_id), min(ts) >= $(date -u -d 2026-03-02 +%s)000 FROM transactions WHERE source_id = 2"
	assert_output "4|1"
}

@test "--id-prefix and --start-id: bad values are usage errors" {
	for bad in '' 'a b' 'ABCDEFGHI' 'x:y'; do
		run fd-gen --id-prefix "$bad"
		assert_failure 2
		assert_line --index 0 "fd-gen: --id-prefix needs 1 to 8 letters, digits, '_', '.' or '-', not '$bad'"
	done
	run fd-gen --start-id 0
	assert_failure 2
	assert_line --index 0 "fd-gen: --start-id needs a whole number from 1 to 100000000000000, not '0'"
}
