rule hisilicon_hns_roce_provider
{
    meta:
        id = "hisilicon_hns_roce_provider"
        vendor = "hisilicon"
        relationship = "made-by"
        confidence = "0.80"
        component = "HiSilicon HNS RoCE user-space provider (libhns)"
        description = "rdma-core's hns provider, written by HiSilicon for its own RoCE NICs: hns_roce_u_ functions with a PCI match table of Huawei/HiSilicon 19e5:a22x devices"
        reference = "rdma-core providers/hns and Linux drivers/infiniband/hw/hns carry 'Copyright (c) 2016-2017 Hisilicon Limited.' (code search); catalog.md §4 F10 (HiSilicon hns3, PCI 0x19e5); Debian ibverbs-providers libhns-rdmav34.so inspected with strings and a hex dump of its match table"

    strings:
        $fn = "hns_roce_u_" ascii
        $pci = { E5 19 2? A2 }

    condition:
        uint32(0) == 0x464C457F and $fn and #pci >= 2
}
