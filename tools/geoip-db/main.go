// geoip-db writes a small GeoIP2-City-shaped MaxMind DB from a JSON list of client subnets and where they
// are, for the local rig's PowerDNS (its geoip backend reads the file; LUA records ask it where a client is).
//
//	geoip-db <entries.json> <out.mmdb>
//
// entries.json is an array of objects:
//
//	{"subnet": "198.18.1.0/24", "latitude": 40.7, "longitude": -74.0, "country": "US", "continent": "NA"}
//
// with an optional "name" (used in messages only). Every record carries location.accuracy_radius: without
// it PowerDNS finds no location and pickclosest answers at random. Reserved networks are included, because
// the rig's client subnets are benchmark addresses (198.18.0.0/15) that only travel inside EDNS Client
// Subnet options. The output is written to a temporary file beside <out.mmdb> and renamed into place, so a
// reader never sees half a database.
//
// Exit codes: 0 written, 1 could not read or write a file, 2 the input is wrong (the message says where).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// accuracyRadiusKm is what every record claims: small, so that PowerDNS trusts the location.
const accuracyRadiusKm = 10

type entry struct {
	Name      string   `json:"name"`
	Subnet    string   `json:"subnet"`
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
	Country   string   `json:"country"`
	Continent string   `json:"continent"`
}

var (
	countryCode   = regexp.MustCompile(`^[A-Z]{2}$`)
	continentCode = map[string]bool{"AF": true, "AN": true, "AS": true, "EU": true, "NA": true, "OC": true, "SA": true}
)

// inputError is a problem with the input file (exit 2), as opposed to an I/O failure (exit 1).
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error { return &inputError{fmt.Sprintf(format, args...)} }

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: geoip-db <entries.json> <out.mmdb>")
		fmt.Fprintln(os.Stderr, `  entries.json: [{"subnet": "198.18.1.0/24", "latitude": 40.7, "longitude": -74.0, "country": "US", "continent": "NA"}, ...]`)
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "geoip-db: %v\n", err)
		var bad *inputError
		if errors.As(err, &bad) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("cannot read the entries: %w", err)
	}
	entries, err := parse(in, raw)
	if err != nil {
		return err
	}
	writer, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-City",
		Description:             map[string]string{"en": "Meridian rig clients (synthetic locations)"},
		RecordSize:              28,
		IPVersion:               6,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return fmt.Errorf("cannot start a database: %w", err)
	}
	for i, e := range entries {
		_, network, _ := net.ParseCIDR(e.Subnet) // checked by parse
		if err := writer.Insert(network, record(e)); err != nil {
			return inputErrorf("%s: %s: cannot be inserted: %v", in, describe(i, e), err)
		}
	}
	return writeAtomically(out, writer)
}

// parse reads and checks every entry, reporting each problem with the entry's index (and name, if any).
func parse(file string, raw []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var entries []entry
	if err := dec.Decode(&entries); err != nil {
		return nil, inputErrorf("%s: %s", file, jsonProblem(raw, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, inputErrorf("%s: expected one JSON array, found more after it", file)
	}
	var problems []string
	seen := map[string]int{}
	var networks []*net.IPNet
	for i, e := range entries {
		where := describe(i, e)
		_, network, err := net.ParseCIDR(e.Subnet)
		switch {
		case e.Subnet == "":
			problems = append(problems, fmt.Sprintf("%s: subnet is missing (e.g. \"198.18.1.0/24\")", where))
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: subnet %q is not a CIDR network (e.g. \"198.18.1.0/24\")", where, e.Subnet))
		case network.String() != canonical(e.Subnet):
			problems = append(problems, fmt.Sprintf("%s: subnet %q has host bits set: write it as %s", where, e.Subnet, network))
		default:
			if j, dup := seen[network.String()]; dup {
				problems = append(problems, fmt.Sprintf("%s: subnet %s is also entry %d", where, network, j))
			} else {
				for _, other := range networks {
					if other.Contains(network.IP) || network.Contains(other.IP) {
						problems = append(problems, fmt.Sprintf("%s: subnet %s overlaps %s of an earlier entry: give each client its own subnet", where, network, other))
						break
					}
				}
				seen[network.String()] = i
				networks = append(networks, network)
			}
		}
		problems = append(problems, coordinate(where, "latitude", e.Latitude, 90)...)
		problems = append(problems, coordinate(where, "longitude", e.Longitude, 180)...)
		if e.Country != "" && !countryCode.MatchString(e.Country) {
			problems = append(problems, fmt.Sprintf("%s: country %q is not an ISO 3166 alpha-2 code (e.g. \"US\")", where, e.Country))
		}
		if e.Continent != "" && !continentCode[e.Continent] {
			problems = append(problems, fmt.Sprintf("%s: continent %q is not one of AF AN AS EU NA OC SA", where, e.Continent))
		}
	}
	if len(problems) > 0 {
		return nil, inputErrorf("%s:\n  %s", file, strings.Join(problems, "\n  "))
	}
	return entries, nil
}

func coordinate(where, field string, value *float64, limit float64) []string {
	switch {
	case value == nil:
		return []string{fmt.Sprintf("%s: %s is missing", where, field)}
	case math.IsNaN(*value) || math.Abs(*value) > limit:
		return []string{fmt.Sprintf("%s: %s %v is outside -%v..%v", where, field, *value, limit, limit)}
	}
	return nil
}

func canonical(subnet string) string {
	ip, network, err := net.ParseCIDR(subnet)
	if err != nil {
		return subnet
	}
	ones, _ := network.Mask.Size()
	if v4 := ip.To4(); v4 != nil && !strings.Contains(subnet, ":") {
		ip = v4
	}
	return fmt.Sprintf("%s/%d", ip, ones)
}

func describe(i int, e entry) string {
	if e.Name != "" {
		return fmt.Sprintf("entry %d (%s)", i, e.Name)
	}
	return fmt.Sprintf("entry %d", i)
}

// jsonProblem says where the JSON went wrong, as line:column, instead of a byte offset.
func jsonProblem(raw []byte, err error) string {
	var syntax *json.SyntaxError
	var typed *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s: invalid JSON: %v", position(raw, syntax.Offset), err)
	case errors.As(err, &typed):
		if typed.Field == "" {
			return fmt.Sprintf("%s: expected an array of entries, got a JSON %s", position(raw, typed.Offset), typed.Value)
		}
		return fmt.Sprintf("%s: %s must be a JSON %s, got a JSON %s", position(raw, typed.Offset), typed.Field, jsonKind(typed.Type.Kind().String()), typed.Value)
	case errors.Is(err, io.EOF):
		return "empty file: expected a JSON array of entries ([] for none)"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return fmt.Sprintf("%s (known fields: name, subnet, latitude, longitude, country, continent)", strings.TrimPrefix(err.Error(), "json: "))
	}
	return err.Error()
}

// jsonKind names a Go field type as JSON calls it.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "float"), strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "number"
	case kind == "ptr":
		return "number"
	}
	return kind
}

func position(raw []byte, offset int64) string {
	if offset > int64(len(raw)) {
		offset = int64(len(raw))
	}
	before := raw[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

func record(e entry) mmdbtype.Map {
	rec := mmdbtype.Map{
		"location": mmdbtype.Map{
			"latitude":        mmdbtype.Float64(*e.Latitude),
			"longitude":       mmdbtype.Float64(*e.Longitude),
			"accuracy_radius": mmdbtype.Uint16(accuracyRadiusKm),
		},
	}
	if e.Country != "" {
		rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(e.Country)}
	}
	if e.Continent != "" {
		rec["continent"] = mmdbtype.Map{"code": mmdbtype.String(e.Continent)}
	}
	return rec
}

func writeAtomically(out string, writer *mmdbwriter.Tree) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			return fmt.Errorf("cannot write %s: %v (in %s)", out, pathErr.Err, filepath.Dir(out))
		}
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := writer.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	return nil
}
