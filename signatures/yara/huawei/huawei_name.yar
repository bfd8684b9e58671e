rule huawei_name
{
    meta:
        id = "huawei_name"
        vendor = "huawei"
        relationship = "mentions"
        confidence = "0.20"
        component = "Huawei name"
        description = "The Huawei company name as seen in binaries (name only: never outvotes structural evidence)"
        reference = "catalog.md §2.1 [elastic_yara][oui_wireshark]"
        weak = "true"

    strings:
        $n1 = "Huawei Technologies Co" nocase ascii wide
        $n2 = "Huawei Device Co" nocase ascii wide

    condition:
        any of them
}
