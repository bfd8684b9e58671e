rule fibocom_signer
{
    meta:
        id = "fibocom_signer"
        vendor = "fibocom"
        relationship = "signed-by"
        confidence = "0.85"
        component = "Fibocom-signed PE"
        description = "A PE whose certificate names Fibocom Wireless Inc. as subject CN or O"
        reference = "catalog.md §2.10 [elastic_behavior]"

    strings:
        $signer = { 06 03 55 04 (03 | 0A) (0C | 13) ?? 46 69 62 6F 63 6F 6D 20 57 69 72 65 6C 65 73 73 20 49 6E 63 }

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and $signer
}
