rule hikvision_hcnetsdk
{
    meta:
        id = "hikvision_hcnetsdk"
        vendor = "hikvision"
        relationship = "contains"
        confidence = "0.80"
        component = "Hikvision HCNetSDK"
        description = "Hikvision HCNetSDK inside an executable: an HCNetSDK library name with the NET_DVR_ API"
        reference = "catalog.md §2.5, §3.3 [hcnetsdk]"

    strings:
        $lib1 = "libhcnetsdk.so"
        $lib2 = "HCNetSDK.dll" nocase
        $lib3 = "libHCCore.so"
        $api1 = "NET_DVR_Init"
        $api2 = "NET_DVR_SetLogToFile"

    condition:
        (uint32(0) == 0x464C457F or uint16(0) == 0x5A4D and uint32(0x3C) < 0x400 and uint32(uint32(0x3C)) == 0x00004550) and 1 of ($lib*) and 1 of ($api*)
}
