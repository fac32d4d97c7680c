#!/usr/bin/perl
# Builds a small MaxMind DB for the GeoIP tests (Debian: libmaxmind-db-writer-perl).
#
#   make_test_db.pl OUT country CIDR=CC ...          country.iso_code = CC
#   make_test_db.pl OUT asn CIDR=NUMBER[:ORG] ...    autonomous_system_number / _organization
#
# IPv4 networks go into an IPv6 tree with the usual IPv4 aliases (::ffff:0:0/96, 2002::/16), as
# in MaxMind's own databases.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, $type, @records) = @ARGV;
die "usage: $0 OUT country|asn CIDR=VALUE...\n" unless defined $type && ($type eq 'country' || $type eq 'asn');

my %types = (
    country                        => 'map',
    registered_country             => 'map',
    iso_code                       => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => $type eq 'country' ? 'EgressGuard-Test-Country' : 'EgressGuard-Test-ASN',
    languages             => ['en'],
    description           => { en => 'egressguard test database' },
    map_key_type_callback => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4    => 1,
    # The tests use documentation prefixes (192.0.2.0/24, 2001:db8::/32), which the writer drops
    # by default.
    remove_reserved_networks => 0,
);
for my $record (@records) {
    my ($cidr, $value) = split /=/, $record, 2;
    die "bad record $record\n" unless defined $value;
    my $data;
    if ($type eq 'country') {
        $data = { country => { iso_code => $value } };
    } else {
        my ($number, $org) = split /:/, $value, 2;
        $data = { autonomous_system_number => $number + 0 };
        $data->{autonomous_system_organization} = $org if defined $org && length $org;
    }
    $tree->insert_network($cidr, $data);
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
