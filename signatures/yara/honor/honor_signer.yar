rule honor_signer
{
    meta:
        id = "honor_signer"
        vendor = "honor"
        relationship = "signed-by"
        confidence = "0.85"
        component = "Honor-signed PE"
        description = "A PE whose certificate names Honor Device Co. as subject CN or O"
        reference = "catalog.md §2.3 [elastic_yara]"

    strings:
        $signer = { 06 03 55 04 (03 | 0A) (0C | 13) ?? 48 6F 6E 6F 72 20 44 65 76 69 63 65 20 43 6F }

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and $signer
}
