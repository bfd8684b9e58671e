rule kaspersky_tls_root
{
    meta:
        id = "kaspersky_tls_root"
        vendor = "kaspersky"
        relationship = "contains"
        confidence = "0.85"
        component = "Kaspersky TLS-inspection root"
        description = "A Kaspersky TLS-inspection root CA name in a trust store or certificate bundle"
        reference = "catalog.md §2.8 [kasp_tls_roots]"

    strings:
        $r1 = "Kaspersky Anti-Virus Personal Root Certificate" ascii wide
        $r2 = "Kaspersky Web Anti-Virus Certification Authority" ascii wide
        $r3 = "Kaspersky Endpoint Security Personal Certification Authority" ascii wide

    condition:
        any of them
}
