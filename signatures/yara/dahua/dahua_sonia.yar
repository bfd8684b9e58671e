rule dahua_sonia
{
    meta:
        id = "dahua_sonia"
        vendor = "dahua"
        relationship = "made-by"
        confidence = "0.85"
        component = "Dahua sonia application"
        description = "Dahua main application sonia with a Dahua runtime marker (dh_keyboard, /mnt/mtd/Config, Dahua RTTI)"
        reference = "catalog.md §4 F18 [dahua_sonia]"

    strings:
        $s1 = "/usr/bin/sonia"
        $s2 = "sonia.lzma"
        $k1 = "dh_keyboard"
        $k2 = "/mnt/mtd/Config"
        $k3 = /N[0-9]{1,2}Dahua[0-9]{0,3}[A-Za-z]{2}/

    condition:
        1 of ($s*) and 1 of ($k*)
}
