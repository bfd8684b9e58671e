rule dji_signer
{
    meta:
        id = "dji_signer"
        vendor = "dji"
        relationship = "signed-by"
        confidence = "0.85"
        component = "DJI-signed PE"
        description = "A PE whose certificate names SZ DJI Technology Co. as subject CN or O"
        reference = "catalog.md §2.9 [elastic_behavior]"

    strings:
        $signer = { 06 03 55 04 (03 | 0A) (0C | 13) ?? 53 5A 20 44 4A 49 20 54 65 63 68 6E 6F 6C 6F 67 79 20 43 6F }

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and $signer
}
