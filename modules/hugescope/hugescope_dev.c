// SPDX-License-Identifier: GPL-2.0
/*
 * hugescope.ko: the /dev/hugescope control device.
 *
 * Each open file can track one KVM VM.  HUGESCOPE_IOC_ATTACH takes the VM's
 * file descriptor, checks that it really is a KVM VM (file_is_kvm()), takes
 * a reference on the VM and starts the per-VM worker (hugescope_track.c);
 * a VM can be attached through one file at a time.  DETACH, or the last
 * close of the file, stops the worker and merges whatever is split.  The
 * file pins the module, so the module cannot go away while a VM is tracked;
 * the VM reference keeps struct kvm alive, and the worker lets go of it by
 * itself once the VMM has closed the VM.  The ABI is hugescope_uapi.h.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "hugescope.h"

/* Attached VMs, to refuse attaching one VM twice.  Protected by hs_list_lock. */
static LIST_HEAD(hs_list);
static DEFINE_MUTEX(hs_list_lock);

struct hs_file {
	struct list_head node;		/* on hs_list while attached */
	struct hugescope_vm *hs;	/* NULL while detached */
	struct kvm *kvm;		/* identity only, for the duplicate check */
};

/* The ioctl numbers encode these sizes: new fields must use reserved space. */
static_assert(sizeof(struct hugescope_attach) == 72);
static_assert(sizeof(struct hugescope_summary) == 160);
static_assert(sizeof(struct hugescope_region) == 104);
static_assert(sizeof(struct hugescope_read) == 24);

/* Fill in defaults and refuse what cannot be meant.  Pure. */
static int __hs_check_params(struct hugescope_attach *p)
{
	bool bounds = p->threshold_min || p->threshold_max;
	int i;

	if (p->flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(p->reserved); i++)
		if (p->reserved[i])
			return -EINVAL;
	/* Bounds without a budget would silently do nothing. */
	if (bounds && !p->fast_budget_4k)
		return -EINVAL;
	p->coarse_period_ms = p->coarse_period_ms ?: 600;
	p->coarse_rounds = p->coarse_rounds ?: 10;
	p->fine_window_ms = p->fine_window_ms ?: 600;
	p->fine_windows = p->fine_windows ?: 5;
	p->hot_rounds = p->hot_rounds ?: max(1U, p->coarse_rounds / 2);
	p->max_candidates = p->max_candidates ?: 64;
	p->threshold_min = p->threshold_min ?: HS_THRESHOLD_MIN;
	p->threshold_max = p->threshold_max ?: HS_THRESHOLD_MAX;
	p->collapse_delta = p->collapse_delta ?: HS_COLLAPSE_DELTA;
	if (p->threshold_min > p->threshold_max ||
	    p->threshold_max > HS_PAGES_PER_2M ||
	    p->collapse_delta > HS_PAGES_PER_2M)
		return -EINVAL;
	/* With a budget the threshold starts, and stays, within the bounds. */
	if (!p->split_threshold)
		p->split_threshold = p->fast_budget_4k ?
				     clamp_t(u32, HS_THRESHOLD, p->threshold_min,
					     p->threshold_max) : HS_THRESHOLD;
	if (p->fast_budget_4k && (p->split_threshold < p->threshold_min ||
				  p->split_threshold > p->threshold_max))
		return -EINVAL;
	if (p->coarse_period_ms < 10 || p->coarse_period_ms > 60000 ||
	    p->fine_window_ms < 10 || p->fine_window_ms > 60000 ||
	    p->coarse_rounds > 1000 || p->fine_windows > 255 ||
	    p->hot_rounds > p->coarse_rounds || p->max_candidates > 4096 ||
	    p->split_threshold > HS_PAGES_PER_2M)
		return -EINVAL;
	return 0;
}

static long hs_attach(struct hs_file *f, void __user *arg)
{
	struct hugescope_attach p;
	struct hugescope_vm *hs;
	struct hs_file *other;
	struct file *vm_file;
	struct kvm *kvm;
	long r;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	r = __hs_check_params(&p);
	if (r)
		return r;

	vm_file = fget(p.vm_fd);
	if (!vm_file)
		return -EBADF;
	/* Not a VM fd (e.g. /dev/kvm itself or a vCPU): say so. */
	if (!file_is_kvm(vm_file)) {
		fput(vm_file);
		return -ENOTTY;
	}
	kvm = vm_file->private_data;
	r = kvm_get_kvm_safe(kvm) ? 0 : -ESRCH;
	fput(vm_file);
	if (r)
		return r;

	hs = kzalloc(sizeof(*hs), GFP_KERNEL_ACCOUNT);
	if (!hs) {
		kvm_put_kvm(kvm);
		return -ENOMEM;
	}
	hs->kvm = kvm;
	hs->p = p;

	mutex_lock(&hs_list_lock);
	r = -EBUSY;
	if (f->hs)
		goto fail;
	r = -EEXIST;
	list_for_each_entry(other, &hs_list, node)
		if (other->kvm == kvm)
			goto fail;
	r = hugescope_vm_start(hs);
	if (r)
		goto fail;
	f->hs = hs;
	f->kvm = kvm;
	list_add(&f->node, &hs_list);
	mutex_unlock(&hs_list_lock);
	return 0;

fail:
	mutex_unlock(&hs_list_lock);
	kvm_put_kvm(kvm);
	kfree(hs);
	return r;
}

static int hs_detach(struct hs_file *f)
{
	struct hugescope_vm *hs;

	mutex_lock(&hs_list_lock);
	hs = f->hs;
	if (hs) {
		list_del(&f->node);
		f->hs = NULL;
		f->kvm = NULL;
	}
	mutex_unlock(&hs_list_lock);
	if (!hs)
		return -ENOENT;
	hugescope_vm_stop(hs);
	kfree(hs);
	return 0;
}

static long hs_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hs_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct hugescope_summary s;
	struct hugescope_read rd;
	long r;

	switch (cmd) {
	case HUGESCOPE_IOC_ATTACH:
		return hs_attach(f, uarg);
	case HUGESCOPE_IOC_DETACH:
		return hs_detach(f);
	}

	/*
	 * Readers hold hs_list_lock so a concurrent DETACH cannot free the
	 * tracker under them; detach waits for the reader.
	 */
	mutex_lock(&hs_list_lock);
	r = -ENOENT;
	if (!f->hs)
		goto out;
	switch (cmd) {
	case HUGESCOPE_IOC_SUMMARY:
		hugescope_vm_summary(f->hs, &s);
		r = copy_to_user(uarg, &s, sizeof(s)) ? -EFAULT : 0;
		break;
	case HUGESCOPE_IOC_READ:
		r = -EFAULT;
		if (copy_from_user(&rd, uarg, sizeof(rd)))
			break;
		r = -EINVAL;
		if (rd.flags || rd.nr > 65536)
			break;
		r = hugescope_vm_read(f->hs, &rd);
		if (!r && copy_to_user(uarg, &rd, sizeof(rd)))
			r = -EFAULT;
		break;
	default:
		r = -ENOTTY;
	}
out:
	mutex_unlock(&hs_list_lock);
	return r;
}

static int hs_open(struct inode *inode, struct file *file)
{
	struct hs_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	INIT_LIST_HEAD(&f->node);
	file->private_data = f;
	return 0;
}

static int hs_release(struct inode *inode, struct file *file)
{
	struct hs_file *f = file->private_data;

	hs_detach(f);
	kfree(f);
	return 0;
}

static const struct file_operations hs_fops = {
	.owner = THIS_MODULE,
	.open = hs_open,
	.release = hs_release,
	.unlocked_ioctl = hs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice hs_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hugescope",
	.fops = &hs_fops,
	.mode = 0600,
};

static int __init hugescope_init(void)
{
	int r = hugescope_track_init();

	if (r)
		return r;
	r = misc_register(&hs_misc);
	if (r)
		hugescope_track_exit();
	return r;
}

static void __exit hugescope_exit(void)
{
	misc_deregister(&hs_misc);
	hugescope_track_exit();
}

module_init(hugescope_init);
module_exit(hugescope_exit);
MODULE_IMPORT_NS(KVM_HUGESCOPE);
MODULE_DESCRIPTION("HugeScope: two-phase stage-2 access tracking for KVM guests");
MODULE_LICENSE("GPL");
