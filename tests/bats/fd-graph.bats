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

@test "cycles: time-ordered loops ranked by suspicion, with the reasons; the unordered loop is not one" {
	ingest cycles
	run --separate-stderr fd-graph cycles
	assert_success
	# Worked by hand (fd-graph(1), SCORE).  The median amount of the 13 transfers is 980.00.
	# W: hops 99.5% of the one before: flow 30; 4 of 4 pairs fresh: 20; 4 accounts: size
	#    (4-2)/4*10 = 5; 3 h of 70 days: timing 10*(1-3/1680) = 9.98; quiet 10; median hop
	#    1990 vs 980: large 5*log10(1990/980) = 1.54; 2000.00 round: 5/4 = 1.25 -> 77.8
	# P: flow 30; P1->P2 carries C02 too: 2 of 3 fresh 13.33; size 2.5; timing 9.997; quiet
	#    10; large 5*log10(990/980) = 0.02; 1000.00 round 1.67; C01 flagged 1.67 -> 69.2
	# Z: two hops, half the flow: 0.5*30 = 15; fresh 20; size 0; 17 of 70 days: 7.57;
	#    quiet 10; 700.00 round: 2.5 -> 55.1
	run bash -c "fd-graph -q --store '$FD_STORE' cycles | cut -d, -f1-12"
	assert_output - <<'OUT'
cycle,length,step,txn_id,ts,from,to,amount,currency,flagged,instances,score
1,4,1,C10,2026-01-05T01:00:00.000Z,account:W1,account:W2,2000.00,USD,0,1,77.8
1,4,2,C11,2026-01-05T02:00:00.000Z,account:W2,account:W3,1990.00,USD,0,1,77.8
1,4,3,C12,2026-01-05T03:00:00.000Z,account:W3,account:W4,1980.00,USD,0,1,77.8
1,4,4,C13,2026-01-05T04:00:00.000Z,account:W4,account:W1,1970.00,USD,0,1,77.8
2,3,1,C01,2026-01-01T10:00:00.000Z,account:P1,account:P2,1000.00,USD,1,1,69.2
2,3,2,C03,2026-01-01T12:00:00.000Z,account:P2,account:P3,990.00,USD,0,1,69.2
2,3,3,C04,2026-01-01T15:00:00.000Z,account:P3,account:P1,980.00,USD,0,1,69.2
3,2,1,C08,2026-01-03T10:00:00.000Z,account:Z1,account:Z2,700.00,USD,0,1,55.1
3,2,2,C09,2026-01-20T10:00:00.000Z,account:Z2,account:Z1,650.00,USD,0,1,55.1
OUT
	[ "$stderr" = "fd-graph: 13 transfers between 12 nodes; 3 time-ordered cycles of 2-10 transfers within 70 days, each hop 80-101% of the one before" ]
	run fd-graph -q cycles --format json
	run jq -r '.cycles[0].reasons, .cycles[1].reasons, .cycles[2].reasons' <<<"$output"
	assert_line --index 0 --partial "flow 30.0: each hop 99-100% of the one before (3 of 3 within 85-100%); fresh 20.0: 4 of 4 pairs with no other transfers; size 5.0: 4 accounts in the loop"
	assert_line --index 1 --partial "fresh 13.3: 2 of 3 pairs with no other transfers"
	assert_line --index 1 --partial "flagged 1.7: 1 of 3 transfers"
	assert_line --index 2 --partial "flow 15.0: each hop 93-93% of the one before (1 of 1 within 85-100%; a repayment as often as not)"
	refute_output --partial "account:Q"
}

@test "cycles: --window, --min-length, --max-length, --since, --any-amount, --pair-max" {
	ingest cycles
	# Z1 -> Z2 on 3 January, back on 20 January: 17 days
	run fd-graph -q cycles --window 17d
	assert_line --index 9 --regexp '^3,2,2,C09,'
	run fd-graph -q cycles --window 407h
	refute_output --partial "C09"
	run fd-graph -q cycles --max-length 3
	[ "${#lines[@]}" -eq 6 ]
	assert_line --index 1 --regexp '^1,3,1,C01,'
	run fd-graph -q cycles --min-length 4
	[ "${#lines[@]}" -eq 5 ]
	assert_line --index 1 --regexp '^1,4,1,C10,'
	# without C01 the loop would start with 300.00 and grow to 990.00: not money passed on ...
	run fd-graph -q cycles --since 2026-01-01T11:00:00Z
	refute_output --partial "C02"
	# ... unless any amount will do
	run fd-graph -q cycles --since 2026-01-01T11:00:00Z --any-amount
	assert_output --regexp ",3,1,C02,2026-01-01T11:00:00.000Z,account:P1,account:P2,300.00,USD,0,1,"
	# P1 -> P2 has two transfers: with --pair-max 1 the P loop is gone
	run fd-graph -q cycles --pair-max 1
	refute_output --partial "account:P1"
	assert_output --partial "account:W1"
	run fd-graph -q cycles --min-length 5 --max-length 4
	assert_failure 2
	assert_line --index 0 "fd-graph: --min-length 5 is above --max-length 4"
	run fd-graph -q cycles --pair-max -1
	assert_failure 2
}

@test "cycles as JSON carry the score, the path, the times and the amounts" {
	ingest cycles
	run fd-graph -q cycles --format json --top 2
	run jq -c '.cycles[1] | [.score, .length, .start, .end, .span_seconds, .amount_min, .amount_max, .instances, .flagged, .accounts, [.hops[].txn_id]]' <<<"$output"
	assert_output '[69.2,3,"2026-01-01T10:00:00.000Z","2026-01-01T15:00:00.000Z",18000,980,1000,1,1,["account:P1","account:P2","account:P3"],["C01","C03","C04"]]'
}

# ---- fans ------------------------------------------------------------------------------

@test "fan: fan-in and fan-out by default, ranked, with every flow; the mule is not a fan" {
	ingest fans
	run --separate-stderr fd-graph fan
	assert_success
	[ "$stderr" = "fd-graph: 2 patterns within 70 days: 1 fan-in, 1 fan-out, 0 gather-scatter, 0 scatter-gather, 0 bipartite, 0 stack" ]
	# FAN by hand: six equal legs, flow 30; 6 of 6 fresh, 20; size (6-3)/9*10 = 3.33; 5 h of
	# 70 days, 9.97; quiet: the median account has 1 counterparty, FAN 6 (2/6), the six
	# recipients 1: 10*(6+1/3)/7 = 9.05; six round 100.00: 5 -> 77.4
	# SLOW: five equal legs 30; fresh 20; size 2.22; 28 days of 70, 6; quiet 10*(5+2/5)/6 =
	# 9.0; 200.00 round 5; all six accounts first seen with it, more than 7 days after the
	# first transfer of the graph: new 5 -> 77.2
	run bash -c "fd-graph -q --store '$FD_STORE' fan | cut -d, -f1-14"
	assert_output - <<'OUT'
pattern,kind,center,other,from,to,count,total,currency,first,last,flagged,txn_ids,score
1,fan-out,account:FAN,,account:FAN,account:T1,1,100.00,USD,2026-02-15T09:00:00.000Z,2026-02-15T09:00:00.000Z,0,F09,77.4
1,fan-out,account:FAN,,account:FAN,account:T2,1,100.00,USD,2026-02-15T10:00:00.000Z,2026-02-15T10:00:00.000Z,0,F10,77.4
1,fan-out,account:FAN,,account:FAN,account:T3,1,100.00,USD,2026-02-15T11:00:00.000Z,2026-02-15T11:00:00.000Z,0,F11,77.4
1,fan-out,account:FAN,,account:FAN,account:T4,1,100.00,USD,2026-02-15T12:00:00.000Z,2026-02-15T12:00:00.000Z,0,F12,77.4
1,fan-out,account:FAN,,account:FAN,account:T5,1,100.00,USD,2026-02-15T13:00:00.000Z,2026-02-15T13:00:00.000Z,0,F13,77.4
1,fan-out,account:FAN,,account:FAN,account:T6,1,100.00,USD,2026-02-15T14:00:00.000Z,2026-02-15T14:00:00.000Z,0,F14,77.4
2,fan-in,account:SLOW,,account:U1,account:SLOW,1,200.00,USD,2026-03-01T09:00:00.000Z,2026-03-01T09:00:00.000Z,0,F15,77.2
2,fan-in,account:SLOW,,account:U2,account:SLOW,1,200.00,USD,2026-03-08T09:00:00.000Z,2026-03-08T09:00:00.000Z,0,F16,77.2
2,fan-in,account:SLOW,,account:U3,account:SLOW,1,200.00,USD,2026-03-15T09:00:00.000Z,2026-03-15T09:00:00.000Z,0,F17,77.2
2,fan-in,account:SLOW,,account:U4,account:SLOW,1,200.00,USD,2026-03-22T09:00:00.000Z,2026-03-22T09:00:00.000Z,0,F18,77.2
2,fan-in,account:SLOW,,account:U5,account:SLOW,1,200.00,USD,2026-03-29T09:00:00.000Z,2026-03-29T09:00:00.000Z,0,F19,77.2
OUT
	# a 3-day window leaves SLOW out (one transfer a week)
	run fd-graph -q fan --window 3d
	refute_output --partial "account:SLOW"
	assert_output --partial "account:FAN"
}

@test "fan: every typology with --kind; gather-scatter and scatter-gather with their evidence" {
	ingest fans
	run fd-graph -q fan --kind fan-in,fan-out,gather-scatter,scatter-gather,bipartite,stack --format json
	run jq -c '.patterns[] | [.kind, .center, .other, .senders, .recipients, .in_total, .out_total]' <<<"$output"
	assert_output - <<'OUT'
["gather-scatter","account:MULE",null,5,3,5000,4400]
["fan-out","account:FAN",null,0,6,0,600]
["scatter-gather","account:SRC","account:DST",3,3,840,900]
["fan-in","account:SLOW",null,5,0,1000,0]
OUT
	run fd-graph -q fan --kind gather-scatter --format json
	run jq -r '.patterns[0].reasons' <<<"$output"
	# 4400.00 of 5000.00 passed on: 88%, a full fit (0.6); out legs 1500, 1500, 1400 vary
	# 3.9% (sample standard deviation / mean): 0.4 * (1 - 0.039/0.35) = 0.356; 30 * 0.956
	assert_output --partial "flow 28.7: 88% of the 5000.00 gathered from 5 senders passed on to 3 recipients (out legs vary 4%)"
	run fd-graph -q fan --kind scatter-gather
	assert_line --index 1 --regexp '^1,scatter-gather,account:SRC,account:DST,account:SRC,account:I1,1,300.00,'
	[ "${#lines[@]}" -eq 7 ]
	# MULE passes on 0.88 of what it gathered
	run fd-graph -q fan --kind gather-scatter --min-pass 0.85
	assert_line --index 1 --regexp '^1,gather-scatter,account:MULE,'
	run fd-graph -q fan --kind gather-scatter --min-pass 0.9
	assert_output "pattern,kind,center,other,from,to,count,total,currency,first,last,flagged,txn_ids,score,reasons"
	run fd-graph fan --kind fan-sideways
	assert_failure 2
	assert_line --index 0 "fd-graph: --kind: unknown pattern 'fan-sideways' (fan-in, fan-out, gather-scatter, scatter-gather, bipartite, stack)"
}

@test "rings: bipartite and stack layering found, ranked, each account with its role" {
	ingest typologies
	run --separate-stderr fd-graph rings --hub-min 6
	assert_success
	# stack: S1, S2 pay M1, M2 400.00 each; M1, M2 pay D1, D2 390.00 each; bipartite: B1, B2
	# pay C1, C2 500.00 each.  Bipartite by hand: equal legs 30; 4 of 4 fresh 20; 4 legs:
	# size (4-3)/9*10 = 1.11; 3 h of 70 days 9.98; quiet 10; median amount of the 18 is 390:
	# large 5*log10(500/390) = 0.54; four round 500.00: 5 -> 76.6
	run bash -c "fd-graph -q --store '$FD_STORE' rings --hub-min 6 | cut -d, -f1-9"
	assert_output - <<'OUT'
ring,kind,kinds,score,findings,account,role,sent,received
1,stack,stack,77.4,1,account:S1,source,800.00,0.00
1,stack,stack,77.4,1,account:M1,mule,780.00,800.00
1,stack,stack,77.4,1,account:M2,mule,780.00,800.00
1,stack,stack,77.4,1,account:S2,source,800.00,0.00
1,stack,stack,77.4,1,account:D1,destination,0.00,780.00
1,stack,stack,77.4,1,account:D2,destination,0.00,780.00
2,bipartite,bipartite,76.6,1,account:B1,source,1000.00,0.00
2,bipartite,bipartite,76.6,1,account:C1,destination,0.00,1000.00
2,bipartite,bipartite,76.6,1,account:C2,destination,0.00,1000.00
2,bipartite,bipartite,76.6,1,account:B2,source,1000.00,0.00
OUT
	run fd-graph -q rings --hub-min 6 --format json
	run jq -r '.rings[0].reasons, (.rings[1].txn_ids | join(" "))' <<<"$output"
	# the intermediates got 1600.00 and passed on 1560.00: 98%
	assert_line --index 0 --partial "2 intermediates passed on 98% of what they got"
	assert_line --index 1 "B01 B02 B03 B04"
	run fd-graph -q fan --kind bipartite --top 1
	assert_line --index 1 --regexp '^1,bipartite,account:B1,,account:B1,account:C1,1,500.00,USD,'
}

@test "hubs: accounts with many counterparties are set aside and listed; --keep-hubs, --exclude" {
	ingest typologies
	# HUB has 6 counterparties: a hub at --hub-min 6, not at the default 1000
	run --separate-stderr fd-graph fan --hub-min 6
	assert_success
	assert_output "pattern,kind,center,other,from,to,count,total,currency,first,last,flagged,txn_ids,score,reasons"
	[ "${stderr_lines[0]}" = "fd-graph: set aside hub account:HUB with 6 counterparties (at least --hub-min 6; --keep-hubs keeps it)" ]
	run fd-graph -q fan --hub-min 6 --keep-hubs
	assert_line --index 1 --regexp '^1,fan-in,account:HUB,,account:E1,account:HUB,1,50.00,'
	run fd-graph -q fan
	assert_line --index 1 --regexp '^1,fan-in,account:HUB,'
	run fd-graph -q fan --exclude HUB
	[ "${#lines[@]}" -eq 1 ]
	run fd-graph -q rings --exclude account:HUB,B1
	refute_output --partial "account:HUB"
	refute_output --partial "bipartite"
	run fd-graph -q rings --exclude NOBODY
	assert_failure 2
	assert_output "fd-graph: --exclude: no account 'NOBODY' in the graph"
	run fd-graph -q rings --hub-min 1
	assert_failure 2
}

@test "rings --case: a ring becomes a case with its accounts, roles and transfers, audited" {
	ingest typologies
	run --separate-stderr fd-graph rings --hub-min 6 --case new
	assert_success
	[ "${stderr_lines[-1]}" = "fd-graph: --case: 1 ring (6 accounts, 8 transfers) opened as case 1" ]
	run sqlite3 "$FD_STORE" "SELECT title, priority FROM cases WHERE id = 1"
	assert_output "fd-graph ring: stack of 6 accounts, score 77.4|HIGH"
	run sqlite3 "$FD_STORE" "SELECT e.key, ce.role, ce.note FROM case_entities ce JOIN entities e ON e.id = ce.entity_id
		WHERE ce.case_id = 1 ORDER BY e.key"
	assert_output - <<'OUT'
D1|SUSPECT|fd-graph ring 1 (stack): destination
D2|SUSPECT|fd-graph ring 1 (stack): destination
M1|SUSPECT|fd-graph ring 1 (stack): mule
M2|SUSPECT|fd-graph ring 1 (stack): mule
S1|SUSPECT|fd-graph ring 1 (stack): source
S2|SUSPECT|fd-graph ring 1 (stack): source
OUT
	run sqlite3 "$FD_STORE" "SELECT group_concat(txn_id, ' ') FROM (SELECT txn_id FROM case_transactions WHERE case_id = 1 ORDER BY txn_id)"
	assert_output "S01 S02 S03 S04 S05 S06 S07 S08"
	# the second ring extends the case
	run --separate-stderr fd-graph rings --hub-min 6 --top 2 --case 1
	assert_success
	run sqlite3 "$FD_STORE" "SELECT count(*) FROM case_transactions WHERE case_id = 1"
	assert_output 12
	run sqlite3 "$FD_STORE" "SELECT count(*) FROM audit_log WHERE tool = 'fd-graph'"
	assert_output 2
	run fd-graph -q rings --case 99
	assert_failure 2
	run fd-graph -q rings --case seven
	assert_failure 2
	assert_line --index 0 "fd-graph: --case takes 'new' or the number of a case, not 'seven'"
	run fd-graph -q cycles --case new
	assert_failure 2
	assert_line --index 0 "fd-graph: --case does not apply to cycles"
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
	for c in "neighbors A1 --depth 2" components cycles "fan --min-in 3 --min-out 3" rings stats; do
		# shellcheck disable=SC2086
		fd-graph -q $c --format dot -o g.dot
		run dot -Tsvg -o g.svg g.dot
		assert_success
		assert_output ""
		grep -q '<svg' g.svg
	done
	# W, P and Z (Q is not in time order)
	run grep -c 'subgraph cluster_' <(fd-graph -q cycles --format dot)
	assert_output 3
}

@test "every command exports GraphML that validates as XML" {
	ingest rings
	fd-ingest -q "$G/cycles.csv" "$G/fans.csv"
	for c in "neighbors A1 --depth 2" components cycles "fan --min-in 3 --min-out 3" rings stats; do
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
	for c in "neighbors A1 --depth 2" components cycles "fan --min-in 3 --min-out 3" rings stats; do
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
	run grep -E '^fd_graph_findings\{.*command="cycles".*\} 3$' m.prom
	assert_success
}

@test "usage errors: one line naming the problem, then the usage, exit 2" {
	ingest rings
	run fd-graph
	assert_failure 2
	assert_line --index 0 "fd-graph: missing command (neighbors, components, cycles, fan, rings, stats)"
	assert_line --index 1 "usage: fd-graph COMMAND [options]"
	run fd-graph circles
	assert_line --index 0 "fd-graph: unknown command 'circles' (neighbors, components, cycles, fan, rings, stats)"
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
	assert_failure 2
	assert_line --index 0 "fd-graph: --window '5x': unknown unit (use ms, s, m, h, d or w)"
	run fd-graph cycles --window 0d
	assert_failure 2
	assert_line --index 0 "fd-graph: --window '0d': duration must be positive"
	run fd-graph cycles --window 3661d
	assert_failure 2
	assert_line --index 0 "fd-graph: --window '3661d': duration out of range (at most 3660 days)"
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
