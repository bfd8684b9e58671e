rule hisilicon_boot_markers
{
    meta:
        id = "hisilicon_boot_markers"
        vendor = "hisilicon"
        relationship = "made-by"
        confidence = "0.70"
        component = "HiSilicon board support"
        description = "HiSilicon boot and runtime markers: two of hi_sfc mtdparts, mmz allocator, /proc/umap, Hisilicon gcc tag, HiLinux banner"
        reference = "catalog.md §4 F12 [openipc_fw][ipctool][oh1kk]; console=ttyAMA0 is generic (§6)"

    strings:
        $mtd = "mtdparts=hi_sfc:"
        $mmz = "mmz_allocator"
        $umap = "/proc/umap/sys"
        $gcc = /\(Hisilicon_v[0-9]{3}\)/
        $hl = "Welcome to HiLinux."

    condition:
        2 of them
}
