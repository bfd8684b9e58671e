rule kaspersky_signer
{
    meta:
        id = "kaspersky_signer"
        vendor = "kaspersky"
        relationship = "signed-by"
        confidence = "0.85"
        component = "Kaspersky-signed PE"
        description = "A PE whose certificate names AO Kaspersky Lab / Kaspersky Lab (JSC) as subject CN or O"
        reference = "catalog.md §2.8, §4 F20 [elastic_behavior]"

    strings:
        $signer = { 06 03 55 04 (03 | 0A) (0C | 13) ?? (41 4F 20 4B 61 73 70 65 72 73 6B 79 20 4C 61 62 | 4B 61 73 70 65 72 73 6B 79 20 4C 61 62) }

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and $signer
}
