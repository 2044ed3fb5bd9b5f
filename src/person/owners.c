#include "person/owners.h"

#include "biobank/specimen.h"
#include "consent/consent.h"
#include "ident/resolver.h"
#include "ingest/roster.h"
#include "portal/guidance.h"
#include "portal/points.h"
#include "portal/referrals.h"
#include "portal/sensors.h"
#include "util/kb.h"

/* The order is the order a merge moves them in; it does not matter for the
 * result, since each owner touches only its own tables. */
const kb_pseudonym_owner kb_person_owners[] = {
    {"consent", {"consents", NULL}, kb_consent_rekey, 0},
    {"sensors", {"sensor_readings", NULL}, kb_sensor_rekey, 0},
    {"points", {"point_ledger", NULL}, kb_points_rekey, 1},
    {"specimens", {"bb_specimens", NULL}, kb_specimen_rekey, 0},
    {"roster", {"roster_members", NULL}, kb_roster_rekey, 0},
    {"guidance", {"guidance_episodes", "guidance_contacts", NULL}, kb_guidance_rekey, 1},
    {"referrals", {"referral_visits", NULL}, kb_referrals_rekey, 0},
};
const size_t kb_person_owners_len = KB_ARRAY_LEN(kb_person_owners);

void kb_person_owners_register(void) { kb_persons_set_owners(kb_person_owners, kb_person_owners_len); }
