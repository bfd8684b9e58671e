rule huawei_signer
{
    meta:
        id = "huawei_signer"
        vendor = "huawei"
        relationship = "signed-by"
        confidence = "0.85"
        component = "Huawei-signed PE"
        description = "A PE whose certificate names Huawei Technologies Co. or Huawei Device Co. as subject CN or O"
        reference = "catalog.md §2.1, §3.3 [elastic_yara]: Authenticode signer names"

    strings:
        $signer = { 06 03 55 04 (03 | 0A) (0C | 13) ?? 48 75 61 77 65 69 20 (54 65 63 68 6E 6F 6C 6F 67 69 65 73 20 43 6F | 44 65 76 69 63 65 20 43 6F) }

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and $signer
}
