rule hikvision_copyright
{
    meta:
        id = "hikvision_copyright"
        vendor = "hikvision"
        relationship = "made-by"
        confidence = "0.70"
        component = "Hikvision-authored code"
        description = "Hikvision copyright banner (@Copyright Hikvision Digital Technology Co., Ltd.)"
        reference = "catalog.md §2.5 [android_hik]"

    strings:
        $c = /Copyright Hikvision Digital Technology Co\., ?Ltd/ nocase ascii wide

    condition:
        $c
}
