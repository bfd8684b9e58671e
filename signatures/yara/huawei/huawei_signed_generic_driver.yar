rule huawei_signed_generic_driver
{
    meta:
        id = "huawei_signed_generic_driver"
        vendor = "huawei"
        relationship = "signed-by"
        confidence = "0.85"
        component = "Huawei-signed generic driver"
        description = "WinIo/PhyMem-lineage driver carrying a Huawei code-signing certificate (supplied, not authored, by Huawei)"
        reference = "catalog.md §4 F9 [elastic_yara]"

    strings:
        $pdb1 = "winio64.pdb" nocase
        $pdb2 = "Phymemx64.pdb" nocase
        $signer = { 06 03 55 04 (03 | 0A) (0C | 13) ?? 48 75 61 77 65 69 20 (54 65 63 68 | 44 65 76 69) }

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and 1 of ($pdb*) and $signer
}
