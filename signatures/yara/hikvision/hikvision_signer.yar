rule hikvision_signer
{
    meta:
        id = "hikvision_signer"
        vendor = "hikvision"
        relationship = "signed-by"
        confidence = "0.85"
        component = "Hikvision-signed PE"
        description = "A PE whose certificate names Hangzhou Hikvision Digital Tech as subject CN or O"
        reference = "catalog.md §2.5 [elastic_behavior]"

    strings:
        $signer = { 06 03 55 04 (03 | 0A) (0C | 13) ?? 48 61 6E 67 7A 68 6F 75 20 48 69 6B 76 69 73 69 6F 6E 20 44 69 67 69 74 61 6C 20 54 65 63 68 }

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and $signer
}
