/* gen.c -- `kenbank gen`: writes a synthetic population to a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "gen/gen.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_gen = {
    "gen", "generate a synthetic population: identities, truth, exams (CSV and/or MHLW XML)",
    "kenbank gen --people N --years Y --seed S --out DIR [OPTIONS]\n"
    "\n"
    "  --people N          people to generate (1..100000000, required)\n"
    "  --years Y           fiscal years with one checkup each (1..30, required)\n"
    "  --seed S            random seed; the same seed gives byte-identical output (required)\n"
    "  --out DIR           output directory, created if absent (required)\n"
    "  --format F          csv, xml or both (default csv)\n"
    "  --first-year FY     first fiscal year, April to March (default 2022)\n"
    "  --institutions N    checkup institutions (1..99, default 8)\n"
    "  --insurers N        insurers (1..99, default 12)\n"
    "  --zip-level L       0 stores zip members, 1..9 deflates (default 1)\n"
    "  --multi-source      issue 16's population: PHR records with kana only (hiragana,\n"
    "                      half-width), 番号 transpositions, many moves, marriages and job\n"
    "                      changes, and hard non-matches (twins one character apart,\n"
    "                      opposite-sex twins a day apart, household namesakes with day and\n"
    "                      month swapped, parent and child of one name); later --rate-* apply\n"
    "  --roster            also write the insurers' eligibility rosters (roster.csv, for\n"
    "                      kenbank roster import) and roster_truth.csv; checkups then\n"
    "                      follow them: some members never attend, others skip years,\n"
    "                      members join and leave mid-year, some are excluded (告示第3号)\n"
    "  --screening         also the cancer screenings and 精密検査 results of each checkup year:\n"
    "                      screening.csv (exam CSV layout) and screening_truth.csv\n"
    "  --no-noise          set every --rate-* to 0 (later --rate-* flags still apply)\n"
    "  --rate-typo R       share of records with one kana typo (default 0.03)\n"
    "  --rate-width R      share of records in half-width kana / full-width digits (default 0.05)\n"
    "  --rate-smallkana R  share of records with small kana or voiced marks folded,\n"
    "                      ショウ/シヨウ, ヅ/ズ (default 0.03)\n"
    "  --rate-variant R    share of records with a kanji variant, 渡辺/渡邊 (default 0.05)\n"
    "  --rate-marriage R   share of women up to 45 whose surname changes (default 0.05)\n"
    "  --rate-jobchange R  share of people who change insurer (default 0.08)\n"
    "  --rate-move R       share of people who move house (default 0.08)\n"
    "  --rate-missing R    share of records with a field group left empty (default 0.05)\n"
    "  --rate-twins R      share of people who have a twin (default 0.01)\n"
    "  --rate-namesake R   share of people with a same-day namesake (default 0.005)\n"
    "\n"
    "Writes DIR/identities.csv and DIR/truth.csv; with csv DIR/exams.csv; with xml\n"
    "DIR/xml/{sender}_{insurer}_{YYYYMMDD}{split}_1.zip (ix08, su08, DATA/h*.xml);\n"
    "with --roster DIR/roster.csv and DIR/roster_truth.csv.\n"
    "Rates are shares in 0..1; per-record rates are doubled for PHR records and\n"
    "halved for insurer records.",
    run};

static int rate_flag(const char *name, kb_noise *out) {
    for (int k = 0; k < KB_NOISE_COUNT; k++)
        if (strcmp(name, kb_noise_name((kb_noise)k)) == 0) {
            *out = (kb_noise)k;
            return C_OK;
        }
    return C_ERR;
}

static int parse_rate(const char *s, double *out) {
    if (!s || !*s) return C_ERR;
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= 0 && v <= 1)) return C_ERR;
    *out = v;
    return C_OK;
}

static int run(int argc, char **argv) {
    const kb_command *cmd = &kb_cmd_gen;
    kb_gen_config c;
    kb_gen_config_default(&c);
    const char *out = NULL;
    int formats = KB_GEN_CSV, have_people = 0, have_years = 0, have_seed = 0;
    long zip_level = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--multi-source") == 0) {
            kb_gen_config_multi(&c);
            continue;
        }
        if (strcmp(a, "--roster") == 0) {
            c.roster = 1;
            continue;
        }
        if (strcmp(a, "--screening") == 0) {
            c.screening = 1;
            continue;
        }
        if (strcmp(a, "--no-noise") == 0) {
            memset(c.rate, 0, sizeof c.rate);
            continue;
        }
        if (strncmp(a, "--", 2) != 0) return kb_cli_usage(cmd, "unexpected argument '%s'", a);
        if (!v) return kb_cli_usage(cmd, "%s needs a value", a);
        i++;
        if (strcmp(a, "--people") == 0) {
            if (kb_cli_long(v, 1, KB_GEN_MAX_PEOPLE, &n)) return kb_cli_usage(cmd, "--people: '%s' is not 1..%ld", v, KB_GEN_MAX_PEOPLE);
            c.people = n, have_people = 1;
        } else if (strcmp(a, "--years") == 0) {
            if (kb_cli_long(v, 1, KB_GEN_MAX_YEARS, &n)) return kb_cli_usage(cmd, "--years: '%s' is not 1..%d", v, KB_GEN_MAX_YEARS);
            c.years = (int)n, have_years = 1;
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            if (!*v || *v == '-') return kb_cli_usage(cmd, "--seed: '%s' is not a non-negative integer", v);
            c.seed = strtoull(v, &end, 10);
            if (*end) return kb_cli_usage(cmd, "--seed: '%s' is not a non-negative integer", v);
            have_seed = 1;
        } else if (strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "csv") == 0) formats = KB_GEN_CSV;
            else if (strcmp(v, "xml") == 0) formats = KB_GEN_XML;
            else if (strcmp(v, "both") == 0) formats = KB_GEN_CSV | KB_GEN_XML;
            else return kb_cli_usage(cmd, "--format: '%s' is not csv, xml or both", v);
        } else if (strcmp(a, "--first-year") == 0) {
            if (kb_cli_long(v, 1990, 2100, &n)) return kb_cli_usage(cmd, "--first-year: '%s' is not 1990..2100", v);
            c.first_year = (int)n;
        } else if (strcmp(a, "--institutions") == 0) {
            if (kb_cli_long(v, 1, 99, &n)) return kb_cli_usage(cmd, "--institutions: '%s' is not 1..99", v);
            c.institutions = (int)n;
        } else if (strcmp(a, "--insurers") == 0) {
            if (kb_cli_long(v, 1, 99, &n)) return kb_cli_usage(cmd, "--insurers: '%s' is not 1..99", v);
            c.insurers = (int)n;
        } else if (strcmp(a, "--zip-level") == 0) {
            if (kb_cli_long(v, 0, 9, &zip_level)) return kb_cli_usage(cmd, "--zip-level: '%s' is not 0..9", v);
        } else if (strncmp(a, "--rate-", 7) == 0) {
            kb_noise k;
            if (rate_flag(a + 7, &k)) return kb_cli_usage(cmd, "unknown option '%s'", a);
            if (parse_rate(v, &c.rate[k])) return kb_cli_usage(cmd, "%s: '%s' is not a share in 0..1", a, v);
        } else {
            return kb_cli_usage(cmd, "unknown option '%s'", a);
        }
    }
    if (!have_people) return kb_cli_usage(cmd, "--people is required");
    if (!have_years) return kb_cli_usage(cmd, "--years is required");
    if (!have_seed) return kb_cli_usage(cmd, "--seed is required");
    if (!out) return kb_cli_usage(cmd, "--out is required");
    kb_err e = {{0}};
    if (kb_gen_check(&c, &e)) return kb_cli_usage(cmd, "%s", e.msg);
    kb_gen_stats st;
    double t0 = kb_cli_now();
    if (kb_gen_write(&c, out, formats, (int)zip_level, &st, &e)) return kb_cli_fail(cmd, &e);
    double dt = kb_cli_now() - t0;
    fprintf(stderr, "kenbank gen: %ld people, %ld exams, %ld identity records, %ld zips in %s (%.1f s, %.0f exams/s)\n",
            c.people, st.exams, st.records, st.zips, out, dt, dt > 0 ? st.exams / dt : 0.0);
    return KB_EXIT_OK;
}
