/**
 * Time zones for off-hours schedules (catalog/timezones.ts): the canonical IANA names AWS takes,
 * held to the tz database on this machine (Debian's tzdata, /usr/share/zoneinfo/tzdata.zi).
 */
import * as assert from "assert";
import * as fs from "fs";
import { IANA_LINKS, IANA_ZONES, TZDATA_VERSION, timezoneProblem } from "../catalog/timezones";

const TZDATA = "/usr/share/zoneinfo/tzdata.zi";

describe("time zones: the canonical IANA names AWS takes", () => {
  it("are the zones, and the links their aliases, of the tz database the list was read from", () => {
    assert.ok(
      fs.existsSync(TZDATA),
      `${TZDATA} is missing: install Debian's tzdata package (apt-get install tzdata)`,
    );
    const lines = fs.readFileSync(TZDATA, "utf8").split("\n");
    const version = lines[0].replace(/^# version /, "");
    assert.strictEqual(
      version,
      TZDATA_VERSION,
      `this machine's tz database is ${version}, the list ${TZDATA_VERSION}: read the list again from ${TZDATA}`,
    );
    const zones = lines.filter((l) => l.startsWith("Z ")).map((l) => l.split(" ")[1]);
    assert.deepStrictEqual([...IANA_ZONES].sort(), zones.sort());
    const links = Object.fromEntries(
      lines.filter((l) => l.startsWith("L ")).map((l) => [l.split(" ")[2], l.split(" ")[1]]),
    );
    assert.deepStrictEqual(IANA_LINKS, links);
    assert.ok(IANA_ZONES.length > 400, `${IANA_ZONES.length} zones`);
  });

  it("takes a zone, names the canonical name for an alias, and refuses an abbreviation", () => {
    for (const zone of ["Etc/UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"])
      assert.strictEqual(timezoneProblem(zone), undefined, zone);
    assert.match(timezoneProblem("UTC")!, /"UTC" is an alias .*canonical name: Etc\/UTC/);
    assert.match(timezoneProblem("US/Pacific")!, /canonical name: America\/Los_Angeles/);
    assert.match(timezoneProblem("Asia/Calcutta")!, /canonical name: Asia\/Kolkata/);
    for (const bad of ["PST", "CEST", "Mars/Olympus", "", 5, undefined])
      assert.match(timezoneProblem(bad)!, /must be a canonical IANA time zone/, String(bad));
    // Node's Intl takes an abbreviation and an alias, so it could not be the check.
    assert.doesNotThrow(() => new Intl.DateTimeFormat("en-US", { timeZone: "UTC" }));
  });
});
