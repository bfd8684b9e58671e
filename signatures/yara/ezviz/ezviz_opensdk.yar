rule ezviz_opensdk
{
    meta:
        id = "ezviz_opensdk"
        vendor = "ezviz"
        relationship = "contains"
        confidence = "0.80"
        component = "EZVIZ EZOpenSDK"
        description = "EZVIZ EZOpenSDK classes (com.videogo.openapi, ezviz.ezopensdk, com.ezvizuikit.open) inside an app"
        reference = "catalog.md §2.5, §3.3 [ezviz_sdk]"

    strings:
        $c1 = "com/videogo/openapi/EZOpenSDK"
        $c2 = "com.videogo.openapi.EZOpenSDK"
        $c3 = "ezviz/ezopensdk/"
        $c4 = "com/ezvizuikit/open/"

    condition:
        any of them
}
