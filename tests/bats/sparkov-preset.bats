#!/usr/bin/env bats
# The sparkov preset reads both layouts of the Sparkov simulated card data: Kaggle's
# fraudTrain.csv / fraudTest.csv (trans_date_trans_time, naive local time; its unix_time is
# shifted by years and must not be read) and the generator's own output (unix_time, epoch
# seconds), as in ../shared/data/sparkov.  The transaction is located at the merchant
# (merch_lat/merch_long); the card (cc_num) is the sender.  Expected distances: python3
# haversine on the mean Earth radius 6371.0088 km (73.28176116903178 and 18.543047536670244 km).

load common

setup() { common_setup; S="$TD/sparkov"; }

# near A B: |A - B| <= 1e-6
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-6) }'; }

@test "Kaggle layout: ts from trans_date_trans_time, the merchant's coordinates, the card as sender" {
	run --separate-stderr fd-features --map sparkov --features hour,sender_txn_count_24h,amount "$S/kaggle.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,ts,label,hour,sender_txn_count_24h,amount
0b242abb623afc578575680df30655b9,2019-01-01T00:00:18.000Z,0,0,1,4.97
1f76529f8574734946361c461b024d99,2019-01-01T02:00:18.000Z,1,2,2,107.23
OUT
	d=$(fd-features -q --map sparkov --features geo_distance_km "$S/kaggle.csv" | tail -1 | cut -d, -f4)
	near "$d" 73.28176116903178
	run fd-ingest -q --store fd.db --map sparkov --emit "$S/kaggle.csv"
	assert_success
	[ "$(echo "$output" | head -1 | jq -c '[.sender_id, .lat, .lon, .metadata.lat, .metadata.long, .metadata.unix_time]')" = \
	  '["2703186189652095",36.011293,-82.048315,"36.0788","-81.1781","1325376018"]' ]
}

@test "generator layout: ts from unix_time (epoch seconds), the merchant's coordinates" {
	# date -u -d @1672531299 +%FT%TZ = 2023-01-01T00:01:39Z; @1672534899 one hour later
	run --separate-stderr fd-features --map sparkov --features hour,sender_txn_count_24h,amount "$S/gen2023.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,ts,label,hour,sender_txn_count_24h,amount
c19f9f1120e12bbe44864f98d284e421,2023-01-01T00:01:39.000Z,0,0,1,75.91
a815d37b48d53b70f641dc2acecb3b90,2023-01-01T01:01:39.000Z,1,1,2,120
OUT
	d=$(fd-features -q --map sparkov --features geo_distance_km "$S/gen2023.csv" | tail -1 | cut -d, -f4)
	near "$d" 18.543047536670244
	run fd-ingest -q --store fd.db --map sparkov --emit "$S/gen2023.csv"
	assert_success
	[ "$(echo "$output" | tail -1 | jq -c '[.sender_id, .merchant_id, .merchant_category, .lat, .lon, .label, .metadata]')" = \
	  '["4926870568567","fraud_Erdman-Kertzmann","grocery_pos",42,-86,1,{"acct_num":"582214113345","lat":"41.0562","long":"-86.6307"}]' ]
	[ "$(q 'SELECT ts FROM transactions ORDER BY ts')" = "$(printf '1672531299000\n1672534899000')" ]
}

@test "neither time column: the error names both" {
	head -1 "$S/gen2023.csv" | sed 's/unix_time/when/' > nots.csv
	sed -n 2p "$S/gen2023.csv" >> nots.csv
	run fd-features --map sparkov nots.csv
	assert_failure 3
	assert_output --partial "fd-features: nots.csv:1: no column 'trans_date_trans_time' or 'unix_time', mapped to the required field ts"
}
