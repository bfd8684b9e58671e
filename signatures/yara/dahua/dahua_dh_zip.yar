rule dahua_dh_zip
{
    meta:
        id = "dahua_dh_zip"
        vendor = "dahua"
        relationship = "made-by"
        confidence = "0.90"
        component = "Dahua firmware image"
        description = "Dahua firmware: a ZIP whose local header magic is DH 03 04, with Dahua member names"
        reference = "catalog.md §4 F17 [dahua_fmk][fact_dahua]"

    strings:
        $hdr = { 44 48 03 04 }
        $m1 = "Install.lua"
        $m2 = "dhboot.bin.img"
        $m3 = "u-boot.bin.img"
        $m4 = "kernel.img"
        $m5 = "romfs-x."
        $m6 = "web-x."
        $m7 = "check.img"
        $m8 = "partition-x.cramfs.img"

    condition:
        $hdr at 0 and 2 of ($m*)
}
