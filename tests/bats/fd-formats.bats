#!/usr/bin/env bats
# Export formats shared by fd-ingest and the stream tools: IANA time zones and DST, date
# formats, decimal commas and thousands separators, rounding, the sign convention and a
# debit/credit column, dotted NDJSON paths, character encodings.
# Expected instants come from GNU date (TZ=zone date -d 'local time' +%s), expected text from
# the byte tables of the encodings worked by hand (cp1252 0x80 = U+20AC, latin1 0x80 = U+0080,
# ISO-8859-15 0xA4 = U+20AC), never from the tools' own output.

load common

setup() { common_setup; F="$TD/formats"; }

# These tests count every reject themselves: no --max-rejects limit (fd-ingest(1)).
fd-ingest() { command fd-ingest --max-rejects 100% "$@"; }

BANK_OPTS=(--map "$TD/formats/bank-de.map" --delimiter ';' --tz Europe/Berlin
	--date-format '%d.%m.%Y %H:%M' --date-format '%d.%m.%Y' --decimal-comma --amount-sign debit-negative)

# the epoch milliseconds of a local time in a zone, by GNU date
lms() { echo $(( $(TZ=$1 date -d "$2" +%s) * 1000 )); }
# ... of a time with an explicit offset
oms() { echo $(( $(date -d "$1" +%s) * 1000 )); }

@test "the German bank export loads with one command and zero rejects, DST-correct" {
	run fd-ingest "${BANK_OPTS[@]}" "$F/bank-de.csv"
	assert_success
	sha=$(sha256sum "$F/bank-de.csv" | cut -d' ' -f1)
	assert_output "fd-ingest: $F/bank-de.csv: 10 accepted, 0 rejected; source 1, sha256 $sha, $(stat -c %s "$F/bank-de.csv") bytes"
	B=Europe/Berlin
	# the nonexistent 02:30 of 29 March is read at the offset before the change (+01:00);
	# the repeated 02:30 of 25 October is its first occurrence (+02:00)
	expect="REF-001|$(lms $B '2026-03-05 14:22')|123456|EUR|DE89370400440532013000|FR1420041010050500013M02606|debit
REF-002|$(lms $B '2026-03-28 23:59')|250000|EUR|FR1420041010050500013M02606|DE89370400440532013000|credit
REF-003|$(lms $B '2026-03-29 01:59')|99|EUR|DE89370400440532013000|GB29NWBK60161331926819|debit
REF-004|$(oms '2026-03-29 02:30 +0100')|1250|EUR|DE89370400440532013000|GB29NWBK60161331926819|debit
REF-005|$(lms $B '2026-03-29 03:00')|100000000|EUR|DE89370400440532013000|NL91ABNA0417164300|debit
REF-006|$(lms $B '2026-03-29 03:01')|1|EUR|NL91ABNA0417164300|DE89370400440532013000|credit
REF-007|$(lms $B '2026-10-25 01:59')|4500|EUR|DE89370400440532013000|FR1420041010050500013M02606|debit
REF-008|$(oms '2026-10-25 02:30 +0200')|4550|EUR|DE89370400440532013000|FR1420041010050500013M02606|debit
REF-009|$(lms $B '2026-10-25 03:00')|123456|EUR|FR1420041010050500013M02606|DE89370400440532013000|credit
REF-010|$(lms $B '2026-12-31')|300|EUR|DE89370400440532013000|GB29NWBK60161331926819|debit"
	run q "SELECT txn_id, ts, amount, currency, sender_id, recipient_id, json_extract(metadata, '$.debit_credit') FROM transactions ORDER BY source_line"
	assert_output "$expect"
	run q "SELECT json_extract(metadata, '$.Description') FROM transactions WHERE txn_id = 'REF-001'"
	assert_output "Miete März"
	run q "SELECT json_extract(options, '$.tz'), json_extract(options, '$.dst'), json_extract(options, '$.date_formats'), json_extract(options, '$.decimal_comma'), json_extract(options, '$.amount_sign'), json_extract(options, '$.encoding_read') FROM sources"
	assert_output '"Europe/Berlin"|earlier|["%d.%m.%Y %H:%M","%d.%m.%Y"]|1|debit-negative|utf-8' || assert_output 'Europe/Berlin|earlier|["%d.%m.%Y %H:%M","%d.%m.%Y"]|1|debit-negative|utf-8'
}

@test "--dst later and --dst reject for the skipped and the repeated hour" {
	run fd-ingest -q "${BANK_OPTS[@]}" --dst later "$F/bank-de.csv"
	assert_success
	run q "SELECT txn_id, ts FROM transactions WHERE txn_id IN ('REF-004', 'REF-008') ORDER BY txn_id"
	assert_output "REF-004|$(oms '2026-03-29 02:30 +0200')
REF-008|$(oms '2026-10-25 02:30 +0100')"
	run fd-ingest --store b.db "${BANK_OPTS[@]}" --dst reject "$F/bank-de.csv"
	assert_success
	assert_line --index 0 "fd-ingest: $F/bank-de.csv:5: field 'ts': bad timestamp '29.03.2026 02:30' (nonexistent local time (skipped by a daylight-saving change)) (rejected)"
	assert_line --index 1 "fd-ingest: $F/bank-de.csv:9: field 'ts': bad timestamp '25.10.2026 02:30' (ambiguous local time (repeated by a daylight-saving change)) (rejected)"
	assert_output --partial "8 accepted, 2 rejected"
	run fd-ingest --dst sometimes "$F/bank-de.csv"
	assert_failure 2
	assert_line --index 0 "fd-ingest: --dst must be earlier, later or reject, not 'sometimes'"
}

@test "naive times in several zones agree with GNU date across DST changes" {
	# Berlin, New York, Sydney and Adelaide (southern hemisphere; Adelaide and Kolkata with
	# half-hour offsets), Lord Howe (a half-hour DST), and 2041 (past the files' transitions:
	# the POSIX TZ footer)
	for spec in Europe/Berlin:2026-03-29:2026-10-25:2041-03-31 America/New_York:2026-03-08:2026-11-01:2041-11-03 \
		Australia/Sydney:2026-04-05:2026-10-04:2041-10-06 Australia/Adelaide:2026-04-05:2026-10-04:2041-04-07 \
		Australia/Lord_Howe:2026-04-05:2026-10-04:2041-04-07 Asia/Kolkata:2026-03-29:2026-10-25:2041-03-31; do
		zone=${spec%%:*}
		days=${spec#*:}
		echo "txn_id,ts,amount,sender_id" > t.csv
		: > want
		: > gaps
		n=0
		for d in ${days//:/ }; do
			for h in 00 01 02 03 04; do
				for m in 00 15 30 45 59; do
					n=$((n + 1))
					echo "t$n,$d $h:$m:00,1,s" >> t.csv
					if s=$(TZ=$zone date -d "$d $h:$m:00" +%s 2>/dev/null); then
						echo "t$n|$((s * 1000))" >> want
					else
						echo "t$n" >> gaps
					fi
				done
			done
		done
		rm -f z.db*
		run fd-ingest --store z.db -q --tz "$zone" --dst reject --rejects rej.ndjson t.csv
		assert_success
		# what date reads: unambiguous times exactly; for a repeated hour GNU date takes the
		# first occurrence in some zones and the second in others, so either must match
		fd-ingest --store z2.db -q --tz "$zone" --emit t.csv > e.ndjson
		fd-ingest --store z3.db -q --tz "$zone" --dst later --emit t.csv > l.ndjson
		cat e.ndjson l.ndjson | jq -r '.txn_id + "|" + ((.ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000 | tostring)' | sort -u > got
		run comm -23 <(sort want) got
		assert_output ""
		[ "$(wc -l < want)" -gt 60 ]
		# ... and what date refuses (the skipped hour) fd refuses under --dst reject
		[ "$(jq -r 'select(.reason | test("nonexistent")) | .record' rej.ndjson | cut -d, -f1)" = "$(cat gaps)" ]
		rm -f z2.db* z3.db* rej.ndjson
	done
}

@test "--tz errors: unknown zone, path tricks, a directory" {
	echo "txn_id,ts,amount,sender_id" > t.csv
	run fd-ingest --tz Europe/Berlinn t.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --tz 'Europe/Berlinn': no time zone 'Europe/Berlinn' in /usr/share/zoneinfo (is tzdata installed?)"
	run fd-ingest --tz ../../etc/passwd t.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --tz '../../etc/passwd': '../../etc/passwd' is not a time zone (UTC, an offset such as +01:00, or an IANA name such as Europe/Berlin)"
	run fd-ingest --tz Europe t.csv
	assert_failure 2
	assert_line --index 0 --partial "fd-ingest: --tz 'Europe': no time zone 'Europe'"
	run fd-ingest --tz +19:00 t.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --tz '+19:00': time zone '+19:00': bad time zone offset"
	run fd-features --tz Mars/Olympus t.csv
	assert_failure 2
	run fd-rules --tz Mars/Olympus t.csv
	assert_failure 2
	run fd-score --tz Mars/Olympus t.csv
	assert_failure 2
}

@test "--date-format: errors in the format, records that do not match" {
	printf 'txn_id,ts,amount,sender_id\na,05.03.2026,1,s\nb,2026-03-05,1,s\nc,31.02.2026,1,s\n' > t.csv
	run fd-ingest --date-format '%d.%m.%Q' t.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --date-format '%d.%m.%Q': unknown directive (use %Y %y %m %d %e %b %H %I %p %M %S %f %z %T %F %s %%)"
	run fd-ingest --date-format '%d.%m' t.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --date-format '%d.%m': no year (%Y or %y)"
	run fd-ingest --date-format '%d.%m.%Y' t.csv
	assert_success
	assert_line --index 0 "fd-ingest: t.csv:3: field 'ts': bad timestamp '2026-03-05' (does not match the date format) (rejected)"
	assert_line --index 1 "fd-ingest: t.csv:4: field 'ts': bad timestamp '31.02.2026' (day out of range for the month) (rejected)"
	run q "SELECT ts FROM transactions"
	assert_output "$(oms '2026-03-05 00:00 +0000')"
	run fd-ingest --store b.db --date-format '%d.%m.%Y' --date-format '%Y/%m/%d' t.csv
	assert_line --index 0 "fd-ingest: t.csv:3: field 'ts': bad timestamp '2026-03-05' (matches none of the date formats) (rejected)"
}

@test "amounts: thousands separators, decimal commas, ambiguity refused" {
	cat > p.csv <<'EOF'
txn_id;ts;amount;sender_id
p1;2026-01-01T00:00:00Z;1,234.56;s
p2;2026-01-01T00:00:00Z;1'234.56;s
p3;2026-01-01T00:00:00Z;12,345,678;s
p4;2026-01-01T00:00:00Z;1,234;s
p5;2026-01-01T00:00:00Z;12,50;s
EOF
	run fd-ingest --delimiter ';' p.csv
	assert_success
	assert_line --index 0 "fd-ingest: p.csv:5: field 'amount': bad amount '1,234' (ambiguous separator: one ',' before three digits could be a thousands separator or a decimal comma (write 1,234.00, or give --decimal-comma); USD has 2 decimal places) (rejected)"
	assert_line --index 1 "fd-ingest: p.csv:6: field 'amount': bad amount '12,50' (decimal comma not expected (give --decimal-comma); USD has 2 decimal places) (rejected)"
	run q "SELECT txn_id, amount FROM transactions ORDER BY txn_id"
	assert_output "p1|123456
p2|123456
p3|1234567800"
	cat > c.csv <<'EOF'
txn_id;ts;amount;sender_id
c1;2026-01-01T00:00:00Z;1.234,56;s
c2;2026-01-01T00:00:00Z;1 234,56;s
c3;2026-01-01T00:00:00Z;-0,5;s
c4;2026-01-01T00:00:00Z;1.234;s
c5;2026-01-01T00:00:00Z;12.5;s
EOF
	run fd-ingest --store c.db --delimiter ';' --decimal-comma c.csv
	assert_success
	assert_line --index 0 --partial "c.csv:5: field 'amount': bad amount '1.234' (ambiguous separator"
	assert_line --index 1 --partial "c.csv:6: field 'amount': bad amount '12.5' (decimal point not expected in decimal-comma mode"
	run sqlite3 c.db "SELECT txn_id, amount FROM transactions ORDER BY txn_id"
	assert_output "c1|123456
c2|123456
c3|-50"
}

@test "--round-amounts: float artefacts rounded half to even, counted and recorded" {
	printf 'txn_id,ts,amount,sender_id\nr1,2026-01-01T00:00:00Z,288.09999999999997,s\nr2,2026-01-01T00:00:00Z,0.125,s\nr3,2026-01-01T00:00:00Z,0.135,s\nr4,2026-01-01T00:00:00Z,12.50,s\n' > r.csv
	run fd-ingest r.csv
	assert_success
	assert_line --index 0 "fd-ingest: r.csv:2: field 'amount': bad amount '288.09999999999997' (too many decimals for the currency: --round-amounts rounds them; USD has 2 decimal places) (rejected)"
	assert_output --partial "1 accepted, 3 rejected"
	run fd-ingest --store r.db --round-amounts r.csv
	assert_success
	assert_line --index 0 --partial "r.csv: 4 accepted, 0 rejected"
	assert_line --index 1 "fd-ingest: r.csv:   3 amounts rounded to the currency's decimals (--round-amounts)"
	run sqlite3 r.db "SELECT txn_id, amount FROM transactions ORDER BY txn_id"
	assert_output "r1|28810
r2|12
r3|14
r4|1250"
	run sqlite3 r.db "SELECT json_extract(options, '$.round_amounts') FROM sources"
	assert_output 1
	run sqlite3 r.db "SELECT json_extract(details, '$.rounded') FROM audit_log WHERE action = 'ingest.source'"
	assert_output 3
}

@test "a debit/credit column: direction = COLUMN in the map" {
	printf 'id,when,amt,from,to,DC\nd1,2026-01-01T00:00:00Z,10.00,A,B,D\nd2,2026-01-01T00:00:00Z,20.00,C,A,c\nd3,2026-01-01T00:00:00Z,-5.00,A,B,DBIT\nd4,2026-01-01T00:00:00Z,1.00,A,B,X\nd5,2026-01-01T00:00:00Z,1.00,A,B,\n' > d.csv
	printf 'txn_id = id\nts = when\namount = amt\nsender_id = from\nrecipient_id = to\ndirection = DC\n' > d.map
	run fd-ingest --map d.map d.csv
	assert_success
	assert_line --index 0 "fd-ingest: d.csv:5: bad debit/credit indicator 'X' (expected D or C, DR or CR, DBIT or CRDT, debit or credit, S or H) (rejected)"
	assert_line --index 1 "fd-ingest: d.csv:6: missing debit/credit indicator (rejected)"
	run q "SELECT txn_id, amount, metadata FROM transactions ORDER BY txn_id"
	assert_output 'd1|1000|{"debit_credit":"debit"}
d2|2000|{"debit_credit":"credit"}
d3|-500|{"debit_credit":"debit"}'
	run q "SELECT json_extract(options, '$.map.direction') FROM sources"
	assert_output DC
	printf 'txn_id = id\ndirection = Nope\n' > e.map
	run fd-ingest --store e.db --map e.map d.csv
	assert_failure 3
	assert_output "fd-ingest: d.csv:1: no column 'ts' for the required field ts (columns: id, when, amt, from, to, DC); map one with --map"
	printf 'txn_id = id\nts = when\namount = amt\nsender_id = from\ndirection = Nope\n' > e.map
	run fd-ingest --store e.db --map e.map d.csv
	assert_failure 3
	assert_output "fd-ingest: d.csv:1: no column 'Nope', mapped to the debit/credit indicator (direction)"
	run fd-ingest --amount-sign upside-down d.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --amount-sign must be signed or debit-negative, not 'upside-down'"
}

@test "dotted paths in --map reach into nested NDJSON" {
	printf '%s\n' '{"id":"n1","booking":{"date":"2026-03-05T10:00:00Z","amount":{"value":12.5,"currency":"EUR"}},"party":{"iban":"DE\u0030"}}' \
		'{"id":"n2","booking":{"date":"2026-03-06T10:00:00Z"},"party":{"iban":"X"}}' > n.ndjson
	printf 'txn_id = id\nts = booking.date\namount = booking.amount.value\ncurrency = booking.amount.currency\nsender_id = party.iban\n' > n.map
	run fd-ingest --map n.map n.ndjson
	assert_success
	assert_line --index 0 "fd-ingest: n.ndjson:2: field 'amount': missing required value (rejected)"
	run q "SELECT txn_id, ts, amount, currency, sender_id FROM transactions"
	assert_output "n1|$(oms '2026-03-05 10:00 +0000')|1250|EUR|DE0"
}

@test "encodings: Windows-1252, ISO-8859-1 and ISO-8859-15 by hand" {
	# cp1252: 0x80 = U+20AC (e2 82 ac), 0xFC = U+00FC (c3 bc), 0xE4 = U+00E4 (c3 a4)
	fd-ingest --encoding windows-1252 --emit "$F/cp1252.csv" > e.ndjson 2> err
	[ "$(jq -j .metadata.note e.ndjson | od -An -tx1 | tr -d ' \n')" = "$(printf 'Preis 5\xe2\x82\xac f\xc3\xbcr M\xc3\xa4rz' | od -An -tx1 | tr -d ' \n')" ]
	run cat err
	assert_output --partial "1 accepted, 0 rejected; source 1, sha256 $(sha256sum "$F/cp1252.csv" | cut -d' ' -f1), 82 bytes, encoding windows-1252"
	# the source's hash is that of the original bytes
	run q "SELECT sha256, json_extract(options, '$.encoding'), json_extract(options, '$.encoding_read') FROM sources"
	assert_output "$(sha256sum "$F/cp1252.csv" | cut -d' ' -f1)|windows-1252|windows-1252"
	run q "SELECT json_extract(details, '$.encoding') FROM audit_log WHERE action = 'ingest.source'"
	assert_output windows-1252
	# latin1: the same 0x80 is the control character U+0080 (c2 80)
	fd-ingest --store l.db -q --encoding iso-8859-1 --emit "$F/cp1252.csv" > e.ndjson
	[ "$(jq -j .metadata.note e.ndjson | od -An -tx1 | tr -d ' \n')" = "$(printf 'Preis 5\xc2\x80 f\xc3\xbcr M\xc3\xa4rz' | od -An -tx1 | tr -d ' \n')" ]
	# ISO-8859-15: 0xA4 = U+20AC, 0xBD = U+0153 (c5 93)
	fd-ingest --store i.db -q --encoding iso-8859-15 --emit "$F/iso-8859-15.csv" > e.ndjson
	[ "$(jq -j .metadata.note e.ndjson | od -An -tx1 | tr -d ' \n')" = "$(printf 'Preis 5\xe2\x82\xac \xc5\x93' | od -An -tx1 | tr -d ' \n')" ]
}

@test "encodings: UTF-16 with a byte-order mark, by name and by --encoding auto" {
	for f in utf16le utf16be; do
		for enc in auto utf-16; do
			rm -f u.db*
			fd-ingest --store u.db -q --encoding $enc --emit "$F/$f.csv" > e.ndjson
			# U+00DF = c3 9f, U+20AC = e2 82 ac
			[ "$(jq -j .metadata.note e.ndjson | od -An -tx1 | tr -d ' \n')" = "$(printf 'Stra\xc3\x9fe \xe2\x82\xac' | od -An -tx1 | tr -d ' \n')" ]
			run sqlite3 u.db "SELECT sha256 FROM sources"
			assert_output "$(sha256sum "$F/$f.csv" | cut -d' ' -f1)"
		done
	done
	run sqlite3 u.db "SELECT json_extract(options, '$.encoding'), json_extract(options, '$.encoding_read') FROM sources"
	assert_output "utf-16|utf-16"
	rm -f u.db*
	fd-ingest --store u.db -q --encoding auto "$F/utf16be.csv"
	run sqlite3 u.db "SELECT json_extract(options, '$.encoding'), json_extract(options, '$.encoding_read') FROM sources"
	assert_output "auto|utf-16be"
}

@test "encodings: invalid bytes are rejects naming line, field and offset; auto refuses non-UTF-8" {
	run fd-ingest --encoding windows-1252 --rejects rej.ndjson "$F/cp1252-bad.csv"
	assert_success
	assert_output --partial "1 accepted, 2 rejected"
	run jq -r '[.line, .field, .reason] | @tsv' rej.ndjson
	assert_output "3	record	not valid windows-1252: column 'note', byte 2 of the field
4	sender_id	not valid windows-1252: column 'sender_id', byte 1 of the field"
	# 0x80 is line 2, byte offset 71 (0-based) of the file: 32 header bytes + 39
	run fd-ingest --store a.db --encoding auto "$F/cp1252.csv"
	assert_failure 3
	assert_output "fd-ingest: $F/cp1252.csv:2: not UTF-8: byte 0x80 at byte offset 71 is not valid UTF-8; give the file's encoding with --encoding (windows-1252 is the usual one for Windows exports; iso-8859-15 and iso-8859-1 are others)"
	run sqlite3 a.db "SELECT count(*) FROM sources"
	assert_output 0
	# UTF-8 with its byte-order mark is UTF-8
	printf '\xef\xbb\xbftxn_id,ts,amount,sender_id,note\nx,2026-01-01T00:00:00Z,1,s,\xc3\xa4\n' > bom.csv
	run fd-ingest --store b.db --encoding auto bom.csv
	assert_success
	assert_output --partial "1 accepted, 0 rejected"
	run fd-ingest --encoding klingon-8 bom.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: unknown encoding 'klingon-8' (iconv -l lists them; e.g. windows-1252, iso-8859-15, utf-16)"
}

@test "the stream tools read the same exports with the same options" {
	run fd-features -q --features amount --sort "${BANK_OPTS[@]}" "$F/bank-de.csv"
	assert_success
	assert_line --index 1 "REF-001,2026-03-05T13:22:00.000Z,,1234.56"
	run fd-features -q --features amount --encoding windows-1252 "$F/cp1252.csv"
	assert_success
	assert_line --index 1 "w1,2026-01-01T10:00:00.000Z,,5"
	run fd-features --encoding auto "$F/cp1252.csv"
	assert_failure 3
	run fd-rules --sort "${BANK_OPTS[@]}" "$F/bank-de.csv"
	assert_success
	run fd-score --sort "${BANK_OPTS[@]}" "$F/bank-de.csv"
	assert_success
	# --since in the zone of --tz: 2026-03-29 03:00 Berlin is 01:00Z
	fd-ingest -q "${BANK_OPTS[@]}" "$F/bank-de.csv"
	run fd-features -q --features amount --tz Europe/Berlin --since '2026-03-29 03:00' --until '2026-03-29 04:00'
	assert_success
	assert_output "txn_id,ts,label,amount
REF-005,2026-03-29T01:00:00.000Z,,1000000
REF-006,2026-03-29T01:01:00.000Z,,0.01
REF-004,2026-03-29T01:30:00.000Z,,12.5"
}

@test "the README's command for the bank export runs as written" {
	cmd=$(sed -n '/^fd-ingest --map testdata\/formats\/bank-de.map/,/bank-de.csv$/p' "$FD_ROOT/README.md")
	[ -n "$cmd" ]
	run bash -c "cd '$FD_ROOT' && $cmd"
	assert_success
	assert_output --partial "10 accepted, 0 rejected"
	man=$(sed -n '/^\$ fd-ingest --map bank-de.map/,/bank-de.csv$/p' "$FD_ROOT/man/fd-ingest.1" | sed 's/^\$ //; s/\\e$/\\/')
	[ -n "$man" ]
	run bash -c "cd '$FD_ROOT/testdata/formats' && FD_STORE='$BATS_TEST_TMPDIR/m.db' $man"
	assert_success
	assert_output --partial "10 accepted, 0 rejected"
}

@test "encodings: characters cut by the reader's 256 KiB chunks come out whole" {
	# python3's codecs write the files and the expected text, independently of fd
	python3 -c "
rows = ['e%d,2026-01-01T00:00:00Z,1,s,%s' % (i, 'äöü€x' * (i % 7 + 1)) for i in range(9000)]
for name, enc in (('u8.csv', 'utf-8'), ('u16.csv', 'utf-16'), ('w.csv', 'cp1252')):
    open(name, 'w', encoding=enc, newline='').write('txn_id,ts,amount,sender_id,note\n' + '\n'.join(rows) + '\n')
open('want', 'w', encoding='utf-8').write(''.join(r.split(',')[4] + '\n' for r in rows))
"
	[ "$(stat -c %s w.csv)" -gt 300000 ]
	for f in u8.csv:auto u16.csv:auto u16.csv:utf-16 w.csv:windows-1252; do
		rm -f e.db*
		fd-ingest --store e.db -q --encoding "${f#*:}" --emit "${f%:*}" | jq -r .metadata.note > got
		run cmp got want
		assert_success
	done
}
