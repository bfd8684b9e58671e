rule zte_config_bin
{
    meta:
        id = "zte_config_bin"
        vendor = "zte"
        relationship = "made-by"
        confidence = "0.90"
        component = "ZTE config.bin"
        description = "ZTE router/ONT config.bin: signature block 04 03 02 01 with a ZXHN/F6xx model and the 01 02 03 04 payload header"
        reference = "catalog.md §4 F19 [zcu]"

    strings:
        $hdr = { 99 99 99 99 44 44 44 44 55 55 55 55 AA AA AA AA }
        $sig = { 04 03 02 01 00 00 00 00 [4] (5A 58 48 4E 20 | 46 36 [2] (4C | 57)) }
        $payload = { 01 02 03 04 }

    condition:
        $sig and $payload and ($hdr at 0 or $sig at 0)
}
