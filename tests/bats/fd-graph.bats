#!/usr/bin/env bats
# fd-graph: neighbourhoods, components, time-ordered cycles, fans, statistics, exports.
# The fixtures in testdata/graph/ are small hand-drawn graphs; every expected value below was
# worked out by hand from them (PageRank with networkx on the edge list written out by hand).
#
# rings.csv: A1, A2 share device DX; A2, A3 share ip 10.0.0.1; B1, B2 share a phone written
#   two ways; C1 is alone.  A1 pays A3 50.00 and B1 100.00; R09 is a reversal; R10 is in EUR.
# cycles.csv: P1->P2->P3->P1 in time order (twice from P1: 10:00 and 11:00); Q1->Q2->Q3->Q1
#   whose transfers are in no time order (never a cycle); Z1<->Z2 17 days apart; a 4-cycle W.
# fans.csv: S1..S5 pay MULE, which pays R1..R3 the next day; FAN pays T1..T6 in 5 hours; U1..U5
#   pay SLOW a week apart; SRC pays I1..I3, who each pay DST the next day.

load common
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	G="$TD/graph"
}

ingest() { fd-ingest -q "$G/$1.csv"; }

have_networkx() { python3 -c 'import networkx' 2>/dev/null; }

# ---- components ------------------------------------------------------------------------

@test "components: two candidate rings, ranked, with members, shared identifiers, flags and flows" {
	ingest rings
	run --separate-stderr fd-graph components
	assert_success
	assert_output - <<'OUT'
rank,accounts,nodes,shared,sent,flagged,flagged_share,flow_internal,flow_in,flow_out,currency,first,last,members,shared_ids
1,3,8,2,5,1,0.2000,50.00,0.00,170.00,USD,2026-01-05T09:00:00.000Z,2026-01-09T09:00:00.000Z,account:A1 account:A2 account:A3,device:DX ip:10.0.0.1
2,2,7,1,3,0,0.0000,0.00,100.00,52.50,USD,2026-01-06T10:00:00.000Z,2026-01-09T09:00:00.000Z,account:B1 account:B2,phone:+442079460000
OUT
	[ "${stderr_lines[0]}" = "fd-graph: 19 nodes, 22 edges; 2 candidate rings of 2 or more accounts (of 3 connected groups)" ]
	[ "${stderr_lines[1]}" = "fd-graph: note: 1 money transactions in other currencies than USD left out (see --currency)" ]
}

@test "components as JSON: the members that are not shared, and the subgraph" {
	ingest rings
	fd-graph -q components --format json > c.json
	run jq -c '.components[1] | [.accounts, .shared, .others, .flow_in, .flow_out]' c.json
	assert_output '[["account:B1","account:B2"],["phone:+442079460000"],["device:DB1","device:DB2","email:b1@example.com","email:b2@example.com"],100,52.5]'
	# the subgraph: the 15 members; the edges inside each ring (A1->A3 transfer included)
	run jq -c '[(.nodes | length), (.edges | length), ([.edges[] | select(.kind == "transfer") | .source + ">" + .target])]' c.json
	assert_output '[15,14,["account:A1>account:A3"]]'
	run jq -r '.nodes[] | select(.id == "account:A2") | "\(.group) \(.flagged) \(.sent_flagged)"' c.json
	assert_output "1 1 1"
}

@test "components: --min-accounts, --max-accounts and --top" {
	ingest rings
	run fd-graph -q components --min-accounts 3
	assert_line --index 1 --regexp '^1,3,8,2,'
	[ "${#lines[@]}" -eq 2 ]
	run fd-graph -q components --max-accounts 2
	assert_line --index 1 --regexp '^1,2,7,1,.*account:B1 account:B2,phone:\+442079460000$'
	[ "${#lines[@]}" -eq 2 ]
	run fd-graph -q components --top 1
	[ "${#lines[@]}" -eq 2 ]
	run fd-graph -q components --min-accounts 3 --max-accounts 2
	assert_failure 2
	assert_line --index 0 "fd-graph: --max-accounts 2 is below --min-accounts 3"
}

@test "components joined by money flow too with --edges" {
	ingest rings
	run fd-graph -q components --edges shared,links,transfer
	# A1 -> B1 joins the two rings: 5 accounts, DX, 10.0.0.1 and the phone shared;
	# internal 50.00 + 100.00, out: the payments 20.00 + 35.00 + 15.00 + 12.50 + 40.00
	assert_output - <<'OUT'
rank,accounts,nodes,shared,sent,flagged,flagged_share,flow_internal,flow_in,flow_out,currency,first,last,members,shared_ids
1,5,15,3,8,1,0.1250,150.00,0.00,122.50,USD,2026-01-05T09:00:00.000Z,2026-01-09T09:00:00.000Z,account:A1 account:A2 account:A3 account:B1 account:B2,device:DX ip:10.0.0.1 phone:+442079460000
OUT
}

@test "components: an explicit entity link joins its ends; --edges shared leaves it out" {
	ingest rings
	q "INSERT INTO entity_links (src, dst, kind, first_seen, last_seen, txn_count)
	   SELECT a.id, b.id, 'same_person', 1767225600000, 1767225600000, 0 FROM entities a, entities b
	   WHERE a.kind = 'account' AND a.key = 'C1' AND b.kind = 'account' AND b.key = 'B2'"
	run fd-graph -q components
	assert_line --index 1 --regexp '^1,3,8,2,.*,account:A1 account:A2 account:A3,device:DX ip:10.0.0.1$'
	assert_line --index 2 --regexp '^2,3,9,1,.*,account:B1 account:B2 account:C1,phone:\+442079460000$'
	run fd-graph -q components --format json
	run jq -r '.edges[] | select(.kind == "link") | "\(.source) \(.target) \(.link_kind)"' <<<"$output"
	assert_output "account:C1 account:B2 same_person"
	run fd-graph -q components --edges shared
	assert_line --index 2 --regexp '^2,2,7,1,'
	# a link outside the window does not count
	run fd-graph -q components --since 2026-01-02
	assert_line --index 2 --regexp '^2,2,7,1,'
}

@test "--currency picks the money; --min-amount leaves small money out" {
	ingest rings
	# in EUR the only money is B2 -> A2 80.00: into ring 1 from ring 2
	run fd-graph -q components --currency EUR
	assert_line --index 1 --regexp '^1,3,8,2,5,1,0.2000,0.00,80.00,0.00,EUR,'
	assert_line --index 2 --regexp '^2,2,7,1,3,0,0.0000,0.00,0.00,80.00,EUR,'
	# at least 35.00: A1's 20.00 and A3's 15.00 payments go
	run fd-graph -q components --min-amount 35
	assert_line --index 1 --regexp '^1,3,8,2,5,1,0.2000,50.00,0.00,135.00,USD,'
	assert_line --index 2 --regexp '^2,2,7,1,3,0,0.0000,0.00,100.00,40.00,USD,'
}

# ---- neighbors -------------------------------------------------------------------------

@test "neighbors: one hop around an account, with kinds, counts and totals" {
	ingest rings
	run --separate-stderr fd-graph neighbors A1
	assert_success
	assert_output - <<'OUT'
source,target,kind,link_kind,count,total,currency,first,last,flagged,risk
account:A1,merchant:M1,payment,,1,20.00,USD,2026-01-05T09:00:00.000Z,2026-01-05T09:00:00.000Z,0,
account:A1,device:DX,device,,2,,,2026-01-05T09:00:00.000Z,2026-01-06T09:00:00.000Z,0,
account:A1,ip:10.0.0.9,ip,,3,,,2026-01-05T09:00:00.000Z,2026-01-06T10:00:00.000Z,0,
account:A1,account:A3,transfer,,1,50.00,USD,2026-01-06T09:00:00.000Z,2026-01-06T09:00:00.000Z,0,
account:A1,account:B1,transfer,,1,100.00,USD,2026-01-06T10:00:00.000Z,2026-01-06T10:00:00.000Z,0,
account:A1,device:DA1,device,,1,,,2026-01-06T10:00:00.000Z,2026-01-06T10:00:00.000Z,0,
OUT
	[ "$stderr" = "fd-graph: A1: 7 nodes, 6 edges within 1 hop; money in USD" ]
}

@test "neighbors --depth 2: the outer ring shows how it connects inward, merchants are not expanded" {
	ingest rings
	fd-graph -q neighbors account:A1 --depth 2 --format json > n.json
	run jq -r '.nodes[] | "\(.depth) \(.id)"' n.json
	assert_output - <<'OUT'
0 account:A1
1 merchant:M1
1 device:DX
1 ip:10.0.0.9
1 account:A3
1 account:B1
1 device:DA1
2 account:A2
2 merchant:M2
2 device:DA3
2 ip:10.0.0.1
2 device:DB1
2 phone:+442079460000
2 email:b1@example.com
OUT
	# 6 edges of A1, A2 -> DX, 3 of A3, 4 of B1; not A2 -> M1 (two unexpanded ends)
	run jq -r '.edges | length' n.json
	assert_output 14
	run jq -r '[.edges[] | select(.source == "account:A2") | .target] | join(" ")' n.json
	assert_output "device:DX"
}

@test "neighbors --max-fanout keeps busy nodes without expanding them" {
	ingest rings
	run fd-graph -q neighbors A1 --depth 2 --max-fanout 2 --format json
	run jq -c '[.nodes[] | select(.depth == 1) | [.id, .expanded]]' <<<"$output"
	assert_output '[["merchant:M1",false],["device:DX",true],["ip:10.0.0.9",true],["account:A3",false],["account:B1",false],["device:DA1",true]]'
}

@test "neighbors of a device, and of a phone written another way" {
	ingest rings
	run fd-graph -q neighbors device:DX
	assert_output - <<'OUT'
source,target,kind,link_kind,count,total,currency,first,last,flagged,risk
account:A1,device:DX,device,,2,,,2026-01-05T09:00:00.000Z,2026-01-06T09:00:00.000Z,0,
account:A2,device:DX,device,,1,,,2026-01-05T10:00:00.000Z,2026-01-05T10:00:00.000Z,1,
OUT
	run fd-graph -q neighbors 'phone:+44 (20) 7946-0000'
	assert_line --index 1 --regexp '^account:B1,phone:\+442079460000,attr,,1,'
	assert_line --index 2 --regexp '^account:B2,phone:\+442079460000,attr,,1,'
	# the edge kinds chosen: no shared identifiers, only money
	run fd-graph -q neighbors A1 --edges money
	[ "${#lines[@]}" -eq 4 ]
	# the window: only what happened on 6 January
	run fd-graph -q neighbors A1 --since 2026-01-06 --until 2026-01-07
	assert_line --regexp '^account:A1,device:DX,device,,1,'
	refute_output --partial 'merchant:M1'
}

@test "neighbors: unknown, ambiguous and badly written entities" {
	ingest rings
	run fd-graph neighbors C9
	assert_failure 2
	assert_output "fd-graph: no entity 'C9' in the store (an account, merchant, device or ip; or give a kind, e.g. phone:C9)"
	run fd-graph neighbors device:A1
	assert_failure 2
	assert_output "fd-graph: no device 'A1' in the store"
	run fd-graph neighbors phone:+1555
	assert_failure 2
	assert_output "fd-graph: no phone '+1555' in the store"
	run fd-graph neighbors 'phone:--'
	assert_failure 2
	assert_output "fd-graph: empty phone in 'phone:--'"
	run fd-graph neighbors account:
	assert_failure 2
	assert_output "fd-graph: empty entity key in 'account:'"
	q "INSERT INTO entities (kind, key, first_seen, last_seen) VALUES ('device', 'A1', 0, 0)"
	run fd-graph neighbors A1
	assert_failure 2
	assert_output "fd-graph: 'A1' names both an account and a device in the store: give its kind, e.g. account:A1"
	run fd-graph -q neighbors account:A1
	assert_success
	run fd-graph neighbors A1 --depth 4
	assert_failure 2
	assert_line --index 0 "fd-graph: --depth needs a whole number from 1 to 3, not '4'"
	run fd-graph neighbors
	assert_failure 2
	assert_line --index 0 "fd-graph: neighbors needs the ID of an entity (e.g. account:C000123)"
}

# ---- cycles ----------------------------------------------------------------------------

@test "cycles: time-ordered loops ranked by the money that went round; the unordered loop is not one" {
	ingest cycles
	run --separate-stderr fd-graph cycles
	assert_success
	assert_output - <<'OUT'
cycle,length,step,txn_id,ts,from,to,amount,currency,flagged,instances
1,4,1,C10,2026-01-05T01:00:00.000Z,account:W1,account:W2,2000.00,USD,0,1
1,4,2,C11,2026-01-05T02:00:00.000Z,account:W2,account:W3,1990.00,USD,0,1
1,4,3,C12,2026-01-05T03:00:00.000Z,account:W3,account:W4,1980.00,USD,0,1
1,4,4,C13,2026-01-05T04:00:00.000Z,account:W4,account:W1,1970.00,USD,0,1
2,3,1,C01,2026-01-01T10:00:00.000Z,account:P1,account:P2,1000.00,USD,1,2
2,3,2,C03,2026-01-01T12:00:00.000Z,account:P2,account:P3,990.00,USD,0,2
2,3,3,C04,2026-01-01T15:00:00.000Z,account:P3,account:P1,980.00,USD,0,2
OUT
	[ "$stderr" = "fd-graph: 13 transfers between 12 nodes; 2 time-ordered cycles of 2-6 transfers within 168 h" ]
	refute_output --partial "account:Q"
}

@test "cycles: --window, --min-length, --max-length and --since" {
	ingest cycles
	# Z1 -> Z2 on 3 January, back on 20 January: 17 days
	run fd-graph -q cycles --window 30d
	assert_line --index 8 "3,2,1,C08,2026-01-03T10:00:00.000Z,account:Z1,account:Z2,700.00,USD,0,1"
	assert_line --index 9 "3,2,2,C09,2026-01-20T10:00:00.000Z,account:Z2,account:Z1,650.00,USD,0,1"
	refute_output --partial "account:Q"
	run fd-graph -q cycles --window 17d
	assert_line --index 9 --regexp '^3,2,2,C09,'
	run fd-graph -q cycles --window 407h
	refute_output --partial "C09"
	run fd-graph -q cycles --max-length 3
	[ "${#lines[@]}" -eq 4 ]
	assert_line --index 1 --regexp '^1,3,1,C01,'
	run fd-graph -q cycles --min-length 4
	[ "${#lines[@]}" -eq 5 ]
	assert_line --index 1 --regexp '^1,4,1,C10,'
	# without C01 the loop starts with the 300.00 transfer at 11:00
	run fd-graph -q cycles --since 2026-01-01T11:00:00Z
	assert_line --index 5 "2,3,1,C02,2026-01-01T11:00:00.000Z,account:P1,account:P2,300.00,USD,0,1"
	run fd-graph -q cycles --min-length 5 --max-length 4
	assert_failure 2
	assert_line --index 0 "fd-graph: --min-length 5 is above --max-length 4"
}

@test "cycles as JSON carry the path, the times and the amounts" {
	ingest cycles
	run fd-graph -q cycles --format json --top 2
	run jq -c '.cycles[1] | [.length, .start, .end, .span_seconds, .amount_min, .amount_max, .instances, .flagged, .accounts, [.hops[].txn_id]]' <<<"$output"
	assert_output '[3,"2026-01-01T10:00:00.000Z","2026-01-01T15:00:00.000Z",18000,980,1000,2,1,["account:P1","account:P2","account:P3"],["C01","C03","C04"]]'
}

# ---- fans ------------------------------------------------------------------------------

@test "fan: the defaults find all four patterns; fan-in and fan-out with every flow" {
	ingest fans
	run --separate-stderr fd-graph fan
	assert_success
	[ "$stderr" = "fd-graph: 25 transfers; 4 patterns within 72 h: 1 fan-in, 1 fan-out, 1 gather-scatter, 1 scatter-gather" ]
	run fd-graph -q fan --format json
	run jq -c '[.patterns[] | [.kind, .center, .senders, .recipients]]' <<<"$output"
	assert_output '[["gather-scatter","account:MULE",5,3],["scatter-gather","account:SRC",3,3],["fan-out","account:FAN",0,6],["fan-in","account:MULE",5,0]]'
	run --separate-stderr fd-graph fan --kind fan-in,fan-out
	assert_success
	assert_output - <<'OUT'
pattern,kind,center,other,from,to,count,total,currency,first,last,flagged,txn_ids
1,fan-out,account:FAN,,account:FAN,account:T1,1,100.00,USD,2026-02-15T09:00:00.000Z,2026-02-15T09:00:00.000Z,0,F09
1,fan-out,account:FAN,,account:FAN,account:T2,1,100.00,USD,2026-02-15T10:00:00.000Z,2026-02-15T10:00:00.000Z,0,F10
1,fan-out,account:FAN,,account:FAN,account:T3,1,100.00,USD,2026-02-15T11:00:00.000Z,2026-02-15T11:00:00.000Z,0,F11
1,fan-out,account:FAN,,account:FAN,account:T4,1,100.00,USD,2026-02-15T12:00:00.000Z,2026-02-15T12:00:00.000Z,0,F12
1,fan-out,account:FAN,,account:FAN,account:T5,1,100.00,USD,2026-02-15T13:00:00.000Z,2026-02-15T13:00:00.000Z,0,F13
1,fan-out,account:FAN,,account:FAN,account:T6,1,100.00,USD,2026-02-15T14:00:00.000Z,2026-02-15T14:00:00.000Z,0,F14
2,fan-in,account:MULE,,account:S1,account:MULE,1,1000.00,USD,2026-02-10T09:00:00.000Z,2026-02-10T09:00:00.000Z,1,F01
2,fan-in,account:MULE,,account:S2,account:MULE,1,1100.00,USD,2026-02-10T10:00:00.000Z,2026-02-10T10:00:00.000Z,0,F02
2,fan-in,account:MULE,,account:S3,account:MULE,1,900.00,USD,2026-02-10T11:00:00.000Z,2026-02-10T11:00:00.000Z,0,F03
2,fan-in,account:MULE,,account:S4,account:MULE,1,1000.00,USD,2026-02-10T12:00:00.000Z,2026-02-10T12:00:00.000Z,0,F04
2,fan-in,account:MULE,,account:S5,account:MULE,1,1000.00,USD,2026-02-10T13:00:00.000Z,2026-02-10T13:00:00.000Z,0,F05
OUT
	[ "$stderr" = "fd-graph: 25 transfers; 2 patterns within 72 h: 1 fan-in, 1 fan-out, 0 gather-scatter, 0 scatter-gather" ]
	# a gather-scatter needs the money to pass through: 4400.00 of 5000.00 is 0.88
	run fd-graph -q fan --kind gather-scatter --min-pass 0.89 --min-in 5 --min-out 3
	[ "${#lines[@]}" -eq 1 ]
}

@test "fan: lower thresholds rank gather-scatter and scatter-gather first" {
	ingest fans
	run fd-graph -q fan --min-in 3 --min-out 3 --format json
	run jq -c '.patterns[] | [.kind, .center, .other, .senders, .recipients, .in_total, .out_total]' <<<"$output"
	assert_output - <<'OUT'
["gather-scatter","account:MULE",null,5,3,5000,4400]
["scatter-gather","account:SRC","account:DST",3,3,840,900]
["fan-out","account:FAN",null,0,6,0,600]
["fan-in","account:MULE",null,5,0,5000,0]
["fan-out","account:MULE",null,0,3,0,4400]
["fan-out","account:SRC",null,0,3,0,900]
["fan-in","account:DST",null,3,0,840,0]
OUT
	run fd-graph -q fan --min-in 3 --min-out 3 --kind scatter-gather
	assert_output - <<'OUT'
pattern,kind,center,other,from,to,count,total,currency,first,last,flagged,txn_ids
1,scatter-gather,account:SRC,account:DST,account:SRC,account:I1,1,300.00,USD,2026-03-02T09:00:00.000Z,2026-03-02T09:00:00.000Z,0,F20
1,scatter-gather,account:SRC,account:DST,account:SRC,account:I2,1,300.00,USD,2026-03-02T10:00:00.000Z,2026-03-02T10:00:00.000Z,0,F21
1,scatter-gather,account:SRC,account:DST,account:SRC,account:I3,1,300.00,USD,2026-03-02T11:00:00.000Z,2026-03-02T11:00:00.000Z,0,F22
1,scatter-gather,account:SRC,account:DST,account:I1,account:DST,1,290.00,USD,2026-03-03T09:00:00.000Z,2026-03-03T09:00:00.000Z,0,F23
1,scatter-gather,account:SRC,account:DST,account:I2,account:DST,1,280.00,USD,2026-03-03T10:00:00.000Z,2026-03-03T10:00:00.000Z,0,F24
1,scatter-gather,account:SRC,account:DST,account:I3,account:DST,1,270.00,USD,2026-03-03T11:00:00.000Z,2026-03-03T11:00:00.000Z,0,F25
OUT
}

@test "fan: --window widens the fan-in, --min-pass demands the money pass through" {
	ingest fans
	# SLOW gets one transfer a week: a fan-in over 30 days only
	run fd-graph -q fan --kind fan-in
	refute_output --partial "account:SLOW"
	run fd-graph -q fan --kind fan-in --window 30d
	assert_line --index 6 --regexp '^2,fan-in,account:SLOW,,account:U1,account:SLOW,1,200.00,'
	# MULE passes on 4400.00 of 5000.00 from 5 senders: 0.88
	run fd-graph -q fan --kind gather-scatter --min-in 5 --min-out 3 --min-pass 0.85
	assert_line --index 1 --regexp '^1,gather-scatter,account:MULE,'
	run fd-graph -q fan --kind gather-scatter --min-in 5 --min-out 3 --min-pass 0.9
	assert_output "pattern,kind,center,other,from,to,count,total,currency,first,last,flagged,txn_ids"
	run fd-graph fan --kind fan-sideways
	assert_failure 2
	assert_line --index 0 "fd-graph: --kind: unknown pattern 'fan-sideways' (fan-in, fan-out, gather-scatter, scatter-gather)"
}

# ---- stats -----------------------------------------------------------------------------

@test "stats: degree, flows, clustering and PageRank (networkx 3.6 gives the same PageRank)" {
	ingest rings
	run fd-graph -q stats --top 5
	assert_output - <<'OUT'
node,kind,key,degree,in_degree,out_degree,flow_in,flow_out,currency,clustering,pagerank,txns,flagged,risk
account:B1,account,B1,5,1,4,100.00,12.50,USD,0,0.1146342492859956,2,0,
account:B2,account,B2,4,0,4,0.00,40.00,USD,0,0.09875341810440731,2,0,
merchant:M2,merchant,M2,3,3,0,67.50,0.00,USD,0,0.08077738506003586,3,0,
account:A3,account,A3,4,1,3,50.00,15.00,USD,0,0.07557956705215142,2,0,
account:A1,account,A1,6,0,6,0.00,170.00,USD,0,0.07160386529899365,3,0,
OUT
	# networkx (pagerank, alpha 0.85) on the same arcs: B1 0.1146342493, A1 0.0716038653, IP9 0.0241621760
	run fd-graph -q stats --format json
	run jq -r '.nodes[] | select(.id == "ip:10.0.0.9") | .pagerank * 1e10 | round' <<<"$output"
	assert_output 241621760
}

@test "stats --save writes the attributes in one transaction with an audit entry" {
	ingest rings
	run --separate-stderr fd-graph stats --save --top 1
	assert_success
	assert_line --index 1 --regexp '^account:B1,'
	[ "${stderr_lines[1]}" = "fd-graph: --save: graph statistics written to the attrs of 16 entities" ]
	run q "SELECT json_extract(attrs, '$.degree'), json_extract(attrs, '$.flow_out'), json_extract(attrs, '$.flow_currency'), round(json_extract(attrs, '$.pagerank'), 10), json_extract(attrs, '$.clustering') FROM entities WHERE kind = 'account' AND key = 'A1'"
	assert_output "6|17000|USD|0.0716038653|0.0"
	# merchants keep what ingest wrote
	run q "SELECT count(*) FROM entities WHERE json_extract(attrs, '$.pagerank') IS NULL"
	assert_output 0
	run q "SELECT actor, tool, action, object_type, json_extract(details, '$.entities'), json_extract(details, '$.nodes'), length(data_digest) FROM audit_log WHERE action = 'graph.stats'"
	assert_output "tester|fd-graph|graph.stats|entities|16|19|64"
	# stats without --save changes nothing
	before=$(q "SELECT count(*) FROM audit_log")
	fd-graph -q stats > /dev/null
	[ "$(q "SELECT count(*) FROM audit_log")" = "$before" ]
}

@test "options that belong to another command are refused" {
	ingest rings
	run fd-graph cycles --depth 2
	assert_failure 2
	assert_line --index 0 "fd-graph: --depth does not apply to cycles"
	run fd-graph components --save
	assert_failure 2
	assert_line --index 0 "fd-graph: --save does not apply to components"
	run fd-graph neighbors A1 --top 3
	assert_failure 2
	assert_line --index 0 "fd-graph: --top does not apply to neighbors"
	run fd-graph stats --window 2d
	assert_failure 2
	assert_line --index 0 "fd-graph: --window does not apply to stats"
}

# ---- exports ---------------------------------------------------------------------------

@test "every command exports DOT that Graphviz renders without a word" {
	ingest rings
	fd-ingest -q "$G/cycles.csv" "$G/fans.csv"
	for c in "neighbors A1 --depth 2" components cycles "fan --min-in 3 --min-out 3" stats; do
		# shellcheck disable=SC2086
		fd-graph -q $c --format dot -o g.dot
		run dot -Tsvg -o g.svg g.dot
		assert_success
		assert_output ""
		grep -q '<svg' g.svg
	done
	run grep -c 'subgraph cluster_' <(fd-graph -q cycles --format dot)
	assert_output 2
}

@test "every command exports GraphML that validates as XML" {
	ingest rings
	fd-ingest -q "$G/cycles.csv" "$G/fans.csv"
	for c in "neighbors A1 --depth 2" components cycles "fan --min-in 3 --min-out 3" stats; do
		# shellcheck disable=SC2086
		fd-graph -q $c --format graphml -o g.graphml
		run xmllint --noout g.graphml
		assert_success
		assert_output ""
	done
}

@test "GraphML loads in networkx with its attributes" {
	have_networkx || skip "python3 networkx is not installed"
	ingest rings
	fd-graph -q stats --format graphml -o g.graphml
	run python3 -c '
import networkx as nx
g = nx.read_graphml("g.graphml")
a = g.nodes["account:A1"]
e = g.edges["account:A1", "account:B1"]
print(g.number_of_nodes(), g.number_of_edges(), a["kind"], a["degree"], round(a["pagerank"], 10), e["kind"], e["total"], e["currency"])'
	assert_success
	assert_output "19 22 account 6 0.0716038653 transfer 100.0 USD"
}

@test "every command exports JSON that jq reads, with risk and flags on nodes and edges" {
	ingest rings
	fd-ingest -q "$G/cycles.csv" "$G/fans.csv"
	for c in "neighbors A1 --depth 2" components cycles "fan --min-in 3 --min-out 3" stats; do
		# shellcheck disable=SC2086
		run fd-graph -q $c --format json
		assert_success
		jq -e '(.nodes | type == "array") and (.edges | type == "array") and (.nodes[0] | has("risk") and has("flagged"))' <<<"$output"
	done
	run fd-graph -q neighbors A2 --format json
	run jq -c '.edges[] | select(.target == "device:DX") | [.flagged, .risk]' <<<"$output"
	assert_output '[1,null]'
}

@test "scores set risk and flags: HIGH and MEDIUM are flagged, LOW is not" {
	ingest rings
	q "INSERT INTO score_runs (id, model_version, rows, started_at, actor) VALUES (1, 'm1', 3, 0, 't'), (2, 'm2', 1, 0, 't');
	   INSERT INTO scores (run_id, txn_id, model_version, risk, level, decision, scored_at) VALUES
	   (1, 'R04', 'm1', 72, 'HIGH', 'BLOCK', 0), (1, 'R05', 'm1', 40, 'LOW', 'APPROVE', 0), (2, 'R05', 'm2', 55, 'MEDIUM', 'REVIEW', 0),
	   (1, 'R01', 'm1', 10, 'LOW', 'APPROVE', 0)"
	run fd-graph -q neighbors A1 --format json
	run jq -c '[.edges[] | select(.kind == "transfer" or .kind == "payment") | [.target, .flagged, .risk]]' <<<"$output"
	assert_output '[["merchant:M1",0,10],["account:A3",1,72],["account:B1",1,55]]'
	# the same from the whole-store load
	run fd-graph -q components
	assert_line --index 1 --regexp '^1,3,8,2,5,3,0.6000,'
}

# ---- options and errors ----------------------------------------------------------------

@test "-o writes the file atomically and never over the store" {
	ingest rings
	fd-graph -q components -o out.csv
	diff out.csv <(fd-graph -q components)
	run fd-graph components -o "$FD_STORE"
	assert_failure 2
	assert_output --regexp "^fd-graph: refusing to overwrite the store '.*fd.db'$"
	run fd-graph -q stats -o /nonexistent/dir/x.csv
	assert_failure 4
}

@test "--metrics writes the textfile" {
	ingest cycles
	fd-graph -q cycles --metrics m.prom > /dev/null
	run grep -E '^fd_graph_findings\{.*command="cycles".*\} 2$' m.prom
	assert_success
}

@test "usage errors: one line naming the problem, then the usage, exit 2" {
	ingest rings
	run fd-graph
	assert_failure 2
	assert_line --index 0 "fd-graph: missing command (neighbors, components, cycles, fan, stats)"
	assert_line --index 1 "usage: fd-graph COMMAND [options]"
	run fd-graph rings
	assert_line --index 0 "fd-graph: unknown command 'rings' (neighbors, components, cycles, fan, stats)"
	run fd-graph stats extra
	assert_failure 2
	assert_line --index 0 "fd-graph: unexpected argument 'extra' after stats"
	run fd-graph stats --format xml
	assert_line --index 0 "fd-graph: --format must be csv, json, dot or graphml, not 'xml'"
	run fd-graph stats --since 2026-13-01
	assert_line --index 0 "fd-graph: --since '2026-13-01': month out of range"
	run fd-graph stats --until yesterday
	assert_line --index 0 "fd-graph: --until 'yesterday': not a timestamp"
	run fd-graph stats --since 2026-02-01 --until 2026-01-01
	assert_line --index 0 "fd-graph: --since must be before --until"
	run fd-graph stats --min-amount 1,5
	assert_line --index 0 "fd-graph: --min-amount '1,5': comma not accepted (no thousands separators or decimal commas)"
	run fd-graph stats --min-amount -5
	assert_line --index 0 "fd-graph: --min-amount '-5': negative"
	run fd-graph stats --currency usd
	assert_line --index 0 "fd-graph: --currency 'usd' is not an ISO 4217 code (upper case, e.g. EUR)"
	run fd-graph stats --edges transfer,foo
	assert_line --index 0 "fd-graph: --edges: unknown edge kind 'foo' (transfer, payment, device, ip, attr, link; money, shared, links, all)"
	run fd-graph stats --edges transfer,
	assert_line --index 0 "fd-graph: --edges: unknown edge kind '' (a trailing comma)"
	run fd-graph cycles --edges device
	assert_line --index 0 "fd-graph: --edges must name money edges (transfer, payment) for cycles"
	run fd-graph cycles --window 5x
	assert_line --index 0 "fd-graph: --window: bad duration '5x' (a positive number with a unit: ms, s, m, h, d, w; at most 10 years)"
	run fd-graph cycles --window 0d
	assert_line --index 0 --partial "fd-graph: --window: bad duration '0d'"
	run fd-graph stats --attrs phone,account
	assert_failure 2
	assert_output "fd-graph: attribute 'account' cannot name a node kind (not empty, no ':', not account, merchant, device or ip)"
	run fd-graph stats --attrs phone,,email
	assert_line --index 0 "fd-graph: --attrs: empty name in the list"
	run fd-graph stats --attrs phone,phone
	assert_failure 2
	assert_output "fd-graph: attribute 'phone' given twice"
	run fd-graph cycles --max-length 31
	assert_line --index 0 "fd-graph: --max-length needs a whole number from 2 to 30, not '31'"
	run fd-graph fan --min-pass x
	assert_failure 2
	run fd-graph stats --top -1
	assert_failure 2
}

@test "a missing store is an I/O error" {
	run fd-graph --store nowhere.db stats
	assert_failure 4
	assert_output "fd-graph: no store at 'nowhere.db' (ingest something first, or give --store)"
}

@test "--attrs: other metadata columns as shared identifiers" {
	ingest rings
	# with e-mail only, B1 and B2 share nothing (b1@ and b2@ differ)
	run fd-graph -q components --attrs email
	[ "${#lines[@]}" -eq 2 ]
	run fd-graph -q neighbors B2 --attrs email
	assert_line --regexp '^account:B2,email:b2@example.com,attr,,1,'
}

@test "the man page examples run" {
	ingest rings
	fd-ingest -q "$G/cycles.csv" "$G/fans.csv"
	run fd-graph -q neighbors account:A1 --depth 2 --format dot -o a1.dot
	assert_success
	run fd-graph -q components --top 10 --format json -o rings.json
	assert_success
	run fd-graph -q cycles --max-length 5 --window 7d --since 2026-01-01
	assert_success
	run fd-graph -q fan --kind gather-scatter --min-in 3 --min-out 2 --window 3d
	assert_success
	run fd-graph -q stats --save --top 20
	assert_success
}

@test "names with quotes, backslashes, ampersands, angle brackets and UTF-8 survive every format" {
	# odd.csv: account 'Zoë "Q" <&>' pays account 'B\ack' on device 'dev "1"' with e-mail
	# 'a&b@example.com'; 'B\ack' pays merchant "M&M's <shop>"
	fd-ingest -q "$G/odd.csv"
	fd-graph -q stats --format dot -o g.dot
	run dot -Tsvg -o g.svg g.dot
	assert_success
	assert_output ""
	fd-graph -q stats --format graphml -o g.graphml
	run xmllint --noout g.graphml
	assert_success
	run jq -r '.nodes[].id' <(fd-graph -q stats --format json)
	assert_output - <<'OUT'
account:Zoë "Q" <&>
account:B\ack
device:dev "1"
email:a&b@example.com
merchant:M&M's <shop>
OUT
	run fd-graph -q neighbors 'account:Zoë "Q" <&>'
	assert_line --index 1 '"account:Zoë ""Q"" <&>",account:B\ack,transfer,,1,10.00,USD,2026-01-05T09:00:00.000Z,2026-01-05T09:00:00.000Z,0,'
	have_networkx || skip "python3 networkx is not installed"
	run python3 -c 'import networkx as nx; print(sorted(nx.read_graphml("g.graphml").nodes()))'
	assert_output "['account:B\\\\ack', 'account:Zoë \"Q\" <&>', 'device:dev \"1\"', 'email:a&b@example.com', \"merchant:M&M's <shop>\"]"
}
