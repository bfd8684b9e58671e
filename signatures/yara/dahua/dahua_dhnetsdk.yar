rule dahua_dhnetsdk
{
    meta:
        id = "dahua_dhnetsdk"
        vendor = "dahua"
        relationship = "contains"
        confidence = "0.80"
        component = "Dahua NetSDK"
        description = "Dahua NetSDK inside an executable: a dhnetsdk/avnetsdk library name with the CLIENT_ API"
        reference = "catalog.md §2.6, §3.3 [dhnetsdk]"

    strings:
        $lib1 = "dhnetsdk.dll" nocase
        $lib2 = "libdhnetsdk.so"
        $lib3 = "dhconfigsdk.dll" nocase
        $lib4 = "avnetsdk.dll" nocase
        $api1 = "CLIENT_Init"
        $api2 = "CLIENT_Login"
        $api3 = "CLIENT_Logout"
        $api4 = "CLIENT_RealPlayEx"

    condition:
        (uint32(0) == 0x464C457F or uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550) and 1 of ($lib*) and 2 of ($api*)
}
