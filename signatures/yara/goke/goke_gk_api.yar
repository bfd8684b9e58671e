rule goke_gk_api
{
    meta:
        id = "goke_gk_api"
        vendor = "goke"
        relationship = "made-by"
        confidence = "0.80"
        component = "Goke MPP SDK"
        description = "Goke SDK: the GK_API_ family with the Goke MPP version string or the goke,sys compatible"
        reference = "catalog.md §4 F13 [openipc_fw]: libgk_api.so (GK_API_*, VERSION=MPP_V1.0.1.0 B020 Release), DT goke,sys"
        version_regex = "(MPP_V[\\d.]+ B\\d+)"

    strings:
        $gk = "GK_API_"
        $ver = /VERSION=MPP_V[0-9.]{3,16} B[0-9]{3}/
        $dt = "goke,sys"

    condition:
        $gk and ($ver or $dt)
}
