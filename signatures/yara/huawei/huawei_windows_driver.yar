rule huawei_windows_driver
{
    meta:
        id = "huawei_windows_driver"
        vendor = "huawei"
        relationship = "made-by"
        confidence = "0.90"
        component = "Huawei MateBook Windows driver"
        description = "Huawei Windows driver: a PE with a Huawei driver PDB name and a Huawei product or company string"
        reference = "catalog.md §4 F8 [elastic_yara]: HwOs2Ec10x64.sys, HwOs2Ecx64.pdb, HwOs2Ec10x64_C233.pdb, HWAudioOs2Ec.sys"

    strings:
        $pdb1 = "HwOs2Ecx64.pdb" nocase
        $pdb2 = "HwOs2Ec10x64_C233.pdb" nocase
        $pdb3 = "HwOs2Ec10x64.pdb" nocase
        $pdb4 = "HWAudioOs2Ec" nocase
        $v1 = "Huawei MateBook" ascii wide
        $v2 = "Huawei Audio Driver" ascii wide
        $v3 = "Huawei Technologies Co" ascii wide
        $v4 = "Huawei Device Co" ascii wide

    condition:
        uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550 and 1 of ($pdb*) and 1 of ($v*)
}
